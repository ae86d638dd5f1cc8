# Sphinx configuration for the Karbor documentation.
#
# Build with:
#   sphinx-build -W -b html doc/source doc/build/html

project = 'Karbor'
copyright = 'Karbor contributors'
author = 'Karbor contributors'

extensions = []

master_doc = 'index'
source_suffix = {'.rst': 'restructuredtext'}

# Not taken from the package, so the docs build without installing Karbor.
version = ''
release = ''

# Sphinx's bundled theme: nothing beyond Sphinx itself has to be installed.
html_theme = 'alabaster'
html_theme_options = {'page_width': '1100px'}
html_title = 'Karbor documentation'
html_show_sourcelink = False

pygments_style = 'sphinx'
