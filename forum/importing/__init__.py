"""Importing comments from Disqus, WordPress, Isso and this forum\x27s own export."""
