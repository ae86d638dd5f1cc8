# Sphinx configuration for the Karbor release notes.
#
# reno's directive reads the notes under releasenotes/notes/ from the git
# history of the repository, so a note shows up once it is committed.
#
# Build with:
#   sphinx-build -a -E -W -b html releasenotes/source releasenotes/build/html

project = 'Karbor Release Notes'
copyright = 'Karbor contributors'
author = 'Karbor contributors'

extensions = ['reno.sphinxext']

master_doc = 'index'
source_suffix = {'.rst': 'restructuredtext'}

# The release notes carry no version of their own.
version = ''
release = ''

# Sphinx's bundled theme: nothing beyond Sphinx itself has to be installed.
html_theme = 'alabaster'
html_theme_options = {'page_width': '1100px'}
html_title = 'Karbor Release Notes'
html_show_sourcelink = False

pygments_style = 'sphinx'
