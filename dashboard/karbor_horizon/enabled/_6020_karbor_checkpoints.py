PANEL = 'karbor_checkpoints'
PANEL_DASHBOARD = 'project'
PANEL_GROUP = 'data_protection'
ADD_PANEL = 'karbor_horizon.checkpoints.panel.Panel'
