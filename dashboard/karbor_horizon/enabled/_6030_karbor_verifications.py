PANEL = 'karbor_verifications'
PANEL_DASHBOARD = 'project'
PANEL_GROUP = 'data_protection'
ADD_PANEL = 'karbor_horizon.verifications.panel.Panel'
