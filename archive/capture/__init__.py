"""Capture: fetch a newsroom's pages politely into the archive (crawl, fetch, robots.txt,
sitemaps, the address guard, URL rules, import of WARC files and page dumps)."""
