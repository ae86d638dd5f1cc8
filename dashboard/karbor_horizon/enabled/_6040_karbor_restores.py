PANEL = 'karbor_restores'
PANEL_DASHBOARD = 'project'
PANEL_GROUP = 'data_protection'
ADD_PANEL = 'karbor_horizon.restores.panel.Panel'
