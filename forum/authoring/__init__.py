"""Authors' pages: writing and editing articles, and the author's desk."""
