PANEL = 'karbor_plans'
PANEL_DASHBOARD = 'project'
PANEL_GROUP = 'data_protection'
ADD_PANEL = 'karbor_horizon.plans.panel.Panel'
