"""Turning fetched pages into announcements (BeautifulSoup with the lxml parser, nh3)."""

import warnings

from bs4 import MarkupResemblesLocatorWarning

# Scraped fragments are always markup: a short title such as "Sprawozdanie.pdf" is text to read,
# never a file name to open, so BeautifulSoup's guess that it might be one is noise in the logs.
warnings.filterwarnings("ignore", category=MarkupResemblesLocatorWarning)
