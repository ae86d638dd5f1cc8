PANEL = 'karbor_scheduled_operations'
PANEL_DASHBOARD = 'project'
PANEL_GROUP = 'data_protection'
ADD_PANEL = 'karbor_horizon.scheduled_operations.panel.Panel'
