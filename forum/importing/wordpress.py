"""WordPress's export (WXR: ``Tools → Export``), an RSS file with WordPress's own elements.

Each ``<item>`` is a post or page (``<link>``, ``<title>``, ``<wp:post_id>``) holding its
comments::

    <wp:comment>
      <wp:comment_id>12</wp:comment_id>
      <wp:comment_author><![CDATA[Ann]]></wp:comment_author>
      <wp:comment_author_email>ann@example.org</wp:comment_author_email>
      <wp:comment_author_url>https://ann.example</wp:comment_author_url>
      <wp:comment_date_gmt>2014-05-01 12:00:00</wp:comment_date_gmt>
      <wp:comment_content><![CDATA[Text, with line breaks]]></wp:comment_content>
      <wp:comment_approved>1</wp:comment_approved>   1, 0 (pending), spam, trash
      <wp:comment_type>comment</wp:comment_type>      "", comment, pingback, trackback
      <wp:comment_parent>0</wp:comment_parent>
    </wp:comment>

WordPress numbers comments across the whole site, but the key is per post anyway (the
same number under two posts is two comments). The ``wp`` namespace differs between WXR
versions (1.0, 1.1, 1.2), so elements are matched by their local names. Pingbacks and
trackbacks are notices that another page linked here, not comments: they are skipped and
counted."""

from pathlib import Path

from .records import ImportFileError, Source, SourceAuthor, SourceComment, SourceThread
from .xml_reading import child_text, local, parse_time, records

_APPROVED = {"1": "visible", "approve": "visible", "0": "pending", "hold": "pending"}
_APPROVED |= {"spam": "spam", "trash": "deleted", "post-trashed": "deleted"}
_NOT_COMMENTS = {"pingback", "trackback"}
_NO_DATE = "0000-00-00 00:00:00"


def read(path: Path) -> Source:
    source = Source(system="wordpress")
    items = 0
    for number, element in enumerate(records(path, depth=3), start=1):
        if local(element.tag) != "item":
            continue
        items += 1
        comments = [c for c in element if local(c.tag) == "comment"]
        if not comments:
            continue
        post_id = child_text(element, "post_id")
        link = child_text(element, "link")
        key = post_id or link
        where = f"item {post_id}" if post_id else f"item #{number} ({link or 'no link'})"
        if not key:
            raise ImportFileError(f"{where}: a post with comments needs a post_id or a link.")
        source.threads.setdefault(
            key,
            SourceThread(
                key=key, url=link or None, title=child_text(element, "title"), where=where
            ),
        )
        for comment in comments:
            made = _comment(comment, key, where, source)
            if made is not None:
                source.comments.append(made)
    if items == 0:
        raise ImportFileError(f"{path.name}: no <item> in <channel>: is this a WordPress export?")
    return source


def _comment(element, thread_key: str, item_where: str, source: Source) -> SourceComment | None:
    comment_id = child_text(element, "comment_id")
    where = f"{item_where}, comment {comment_id or '(no id)'}"
    if not comment_id:
        raise ImportFileError(f"{where}: a comment needs a comment_id.")
    if child_text(element, "comment_type").lower() in _NOT_COMMENTS:
        source.skipped += 1
        return None
    approved = child_text(element, "comment_approved").lower()
    state = _APPROVED.get(approved)
    if state is None:
        state = "spam"
        source.unclear_spam += 1
        source.notes.append(f"{where}: comment_approved is {approved!r}; imported as spam.")
    moment = child_text(element, "comment_date_gmt")
    if not moment or moment == _NO_DATE:
        moment = child_text(element, "comment_date")  # the site's local time: the best left
    if not moment or moment == _NO_DATE:
        raise ImportFileError(f"{where}: no comment date.")
    parent = child_text(element, "comment_parent")
    name = child_text(element, "comment_author")
    email = child_text(element, "comment_author_email")
    url = child_text(element, "comment_author_url")
    if email:
        key = f"email:{email.lower()}"
    elif name:
        key = f"name:{name}|{url}"
    else:
        key = "anonymous"
    return SourceComment(
        source_id=comment_id,
        thread_key=thread_key,
        parent_id=parent if parent not in ("", "0") else None,
        created_at=parse_time(moment, where),
        body=_content(element),
        body_format="html",
        author=SourceAuthor(key=key, name=name, email=email or None, url=url or None),
        state=state,
        where=where,
    )


def _content(element) -> str:
    for found in element:
        if local(found.tag) == "comment_content":
            return found.text or ""
    return ""
