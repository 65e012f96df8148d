"""Disqus's export (``Admin → Community → Export``): one XML file.

Its shape, as Disqus writes it::

    <disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">
      <category dsq:id="1">...</category>
      <thread dsq:id="7"> <id>page-identifier</id> <link>https://...</link> <title>...
        <createdAt>2013-05-01T10:00:00Z</createdAt> <isDeleted>false</isDeleted> ...
      </thread>
      <post dsq:id="99"> <message><![CDATA[<p>HTML</p>]]></message>
        <createdAt>...</createdAt> <isDeleted>false</isDeleted> <isSpam>false</isSpam>
        <author><email/><name/><isAnonymous/><username/></author>
        <thread dsq:id="7"/> <parent dsq:id="98"/>   (parent only on replies)
      </post>
    </disqus>

Threads are keyed by their ``dsq:id`` (the ``<id>`` identifier is often empty); a thread
without one is keyed by its link."""

from pathlib import Path

from .records import ImportFileError, Source, SourceAuthor, SourceComment, SourceThread
from .xml_reading import attribute, child, child_text, local, parse_time, records

_YES = {"true", "1", "yes"}
_NO = {"false", "0", "no", ""}


def read(path: Path) -> Source:
    source = Source(system="disqus")
    seen_root = False
    for number, element in enumerate(records(path, depth=2), start=1):
        seen_root = True
        kind = local(element.tag)
        if kind == "thread":
            thread = _thread(element, number)
            source.threads.setdefault(thread.key, thread)
        elif kind == "post":
            source.comments.append(_post(element, number, source))
    if not seen_root:
        raise ImportFileError(f"{path.name}: no threads or posts: is this a Disqus export?")
    return source


def _flag(value: str, where: str, name: str, source: Source | None = None) -> bool | None:
    """True, False, or None when the value is neither (the caller decides what that means)."""
    value = value.strip().lower()
    if value in _YES:
        return True
    if value in _NO:
        return False
    if source is not None:
        source.notes.append(f"{where}: {name} is {value!r}, neither true nor false.")
    return None


def _thread(element, number: int) -> SourceThread:
    dsq_id = attribute(element, "id")
    link = child_text(element, "link")
    where = f"thread {dsq_id}" if dsq_id else f"thread #{number} ({link or 'no link'})"
    key = dsq_id or link
    if not key:
        raise ImportFileError(f"{where}: a thread needs a dsq:id or a link.")
    deleted = _flag(child_text(element, "isDeleted"), where, "isDeleted")
    return SourceThread(
        key=key,
        url=link or None,
        title=child_text(element, "title"),
        where=where,
        deleted=deleted is not False,  # unclear: show nothing
    )


def _post(element, number: int, source: Source) -> SourceComment:
    dsq_id = attribute(element, "id")
    where = f"post {dsq_id}" if dsq_id else f"post #{number}"
    if not dsq_id:
        raise ImportFileError(f"{where}: a post needs a dsq:id.")
    created = child_text(element, "createdAt")
    if not created:
        raise ImportFileError(f"{where}: no createdAt.")
    deleted = _flag(child_text(element, "isDeleted"), where, "isDeleted", source)
    spam = _flag(child_text(element, "isSpam"), where, "isSpam", source)
    if spam is None:
        source.unclear_spam += 1
    if deleted:
        state = "deleted"
    elif spam is not False:
        state = "spam"
    elif deleted is None:
        state = "deleted"
    else:
        state = "visible"
    thread_ref = child(element, "thread")
    parent_ref = child(element, "parent")
    return SourceComment(
        source_id=dsq_id,
        thread_key=attribute(thread_ref, "id"),
        parent_id=attribute(parent_ref, "id") or None,
        created_at=parse_time(created, where),
        body=child_text(element, "message"),
        body_format="html",
        author=_author(child(element, "author")),
        state=state,
        where=where,
    )


def _author(element) -> SourceAuthor:
    if element is None:
        return SourceAuthor(key="anonymous", name="")
    username = child_text(element, "username")
    email = child_text(element, "email")
    name = child_text(element, "name") or username
    if username:
        key = f"username:{username}"
    elif email:
        key = f"email:{email.lower()}"
    else:
        key = f"name:{name}" if name else "anonymous"
    return SourceAuthor(key=key, name=name, email=email or None)
