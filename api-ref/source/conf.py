# Sphinx configuration for the Karbor API reference.
#
# Build with:
#   sphinx-build -W -b html api-ref/source api-ref/build/html
#
# The os_api_ref extension supplies the rest_method, rest_parameters and
# rest_status_code directives used by the .inc files.

project = 'Karbor API Reference'
copyright = 'Karbor contributors'
author = 'Karbor contributors'

extensions = ['os_api_ref']

master_doc = 'index'
source_suffix = {'.rst': 'restructuredtext'}

# Sphinx's bundled theme: nothing beyond Sphinx itself has to be installed.
html_theme = 'alabaster'
html_theme_options = {
    'page_width': '1100px',
    'sidebar_width': '240px',
}
html_sidebars = {'**': ['searchbox.html', 'localtoc.html']}
html_static_path = ['_static']
html_css_files = ['karbor-api-ref.css']
html_title = 'Karbor API v1 Reference'
html_show_sourcelink = False

pygments_style = 'sphinx'
