"""Help text shared by the subcommands."""

from __future__ import annotations


def description_from_doc(doc: str) -> str:
    """A command module's docstring as ``--help`` text: the summary and the body after ``::``, no reST markup."""
    head, _, rest = doc.partition("::")
    body = rest.split("\n\n", 2)[2] if rest else ""
    return (head.strip() + "\n\n" + body).replace("``", "'")
