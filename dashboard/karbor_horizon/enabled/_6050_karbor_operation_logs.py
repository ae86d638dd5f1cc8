PANEL = 'karbor_operation_logs'
PANEL_DASHBOARD = 'project'
PANEL_GROUP = 'data_protection'
ADD_PANEL = 'karbor_horizon.operation_logs.panel.Panel'
