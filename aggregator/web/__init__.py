"""`ropsfeed serve`: the feed as a web page in Polish, story pages and the feeds as URLs."""
