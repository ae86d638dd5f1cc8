PANEL = 'karbor_triggers'
PANEL_DASHBOARD = 'project'
PANEL_GROUP = 'data_protection'
ADD_PANEL = 'karbor_horizon.triggers.panel.Panel'
