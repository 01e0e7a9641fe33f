"""Tags as Word stores them: split over runs, paragraphs, links (docxtpl 0.20 behaviour).

docxtpl glues a tag split over several runs (``patch_xml`` drops the XML between its
pieces). That is harmless for runs of the same formatting, changes the formatting
when they differ, merges paragraphs when a tag spans two of them, and breaks the
document when the pieces sit in different containers (hyperlink, tracked change,
table cells). Only the last two kinds are errors.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from lxml import etree

from e2docs.reports.problem import ERROR, WARNING, Problem, short

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_OPEN = re.compile(r"\{\{|\{%|\{#")
_CLOSE = {"{{": "}}", "{%": "%}", "{#": "#}"}
# Elements that may sit between the runs of a tag without harm (docxtpl drops them).
_HARMLESS = {
    W + n
    for n in (
        "r",
        "rPr",
        "t",
        "proofErr",
        "bookmarkStart",
        "bookmarkEnd",
        "lastRenderedPageBreak",
        "softHyphen",
        "noBreakHyphen",
    )
}
_IGNORED_RPR = {
    W + n for n in ("rsidR", "rsidRPr", "rsidDel", "rsidRDefault", "lang", "noProof", "spellingErr", "specVanish")
}


def _own(el: etree._Element, tag: str) -> Iterator[etree._Element]:
    """Descendants ``tag`` of a paragraph that are not inside a nested paragraph (text box)."""
    for node in el.iter(tag):
        parent = node.getparent()
        while parent is not None and parent.tag != W + "p":
            parent = parent.getparent()
        if parent is el:
            yield node


def _rpr_key(run: etree._Element) -> str:
    """A run's formatting as comparable text (revision ids, language and proofing marks left out)."""
    rpr = run.find(W + "rPr")
    if rpr is None:
        return ""
    keep = [etree.tostring(c, encoding="unicode") for c in rpr if c.tag not in _IGNORED_RPR]
    return "".join(sorted(re.sub(r'\s+w:rsid\w*="[^"]*"', "", k) for k in keep))


def run_problems(root: etree._Element, part: str) -> list[Problem]:
    """Problems of the tags of a Word XML part (``root``: its root element), in paragraph order;
    ``part`` names the part in the messages ("corps du document", "en-tête", "pied de page")."""
    out: list[Problem] = []
    paragraphs = list(root.iter(W + "p"))
    for index, p in enumerate(paragraphs):
        ts = [t for t in _own(p, W + "t")]
        text = "".join(t.text or "" for t in ts)
        if "{" not in text:
            continue
        owner: list[int] = []  # index in ts of the w:t holding each character of text
        for i, t in enumerate(ts):
            owner += [i] * len(t.text or "")
        shown = short(text)
        for m in _OPEN.finditer(text):
            opener = m.group(0)
            end = text.find(_CLOSE[opener], m.end())
            if end < 0:
                out.append(_unclosed(text[m.start() :], _CLOSE[opener], paragraphs, index, shown, part))
                continue
            tag = text[m.start() : end + 2]
            segs = sorted(set(owner[m.start() : end + 2]))
            if len(segs) > 1:
                out += _split_tag(tag, [ts[i] for i in segs], shown, part)
        out += _replaced_text(p, text, shown, part)
    return out


def _unclosed(
    start: str, close: str, paragraphs: Sequence[etree._Element], index: int, shown: str, part: str
) -> Problem:
    """A tag not closed in its paragraph: docxtpl glues following paragraphs of the same
    container (losing the break), but across table cells it destroys the table."""
    head = short(start, 40)
    p = paragraphs[index]
    for q in paragraphs[index + 1 :]:
        if close in "".join(t.text or "" for t in _own(q, W + "t")):
            if q.getparent() is p.getparent():
                return Problem(
                    WARNING,
                    f"la balise « {head} » se termine dans un paragraphe suivant : les "
                    "paragraphes concernés seront réunis en un seul. Retapez la balise sur une seule "
                    "ligne.",
                    shown,
                    part,
                )
            return Problem(
                ERROR,
                f"la balise « {head} » se termine dans une autre cellule ou une autre zone du "
                "document : le tableau produit serait abîmé. Fermez-la par « " + close + " » dans le "
                "même paragraphe.",
                shown,
                part,
            )
    return Problem(
        ERROR,
        f"balise « {head} » ouverte mais jamais fermée : ajoutez « {close} » dans le même paragraphe.",
        shown,
        part,
    )


def _split_tag(tag: str, ts: Sequence[etree._Element], shown: str, part: str) -> list[Problem]:
    """What docxtpl will do to a tag whose text ``ts`` (its ``w:t``, in order) spans several runs."""
    runs = [r for t in ts if (r := t.getparent()) is not None]  # a w:t always has its run
    if len({r.getparent() for r in runs}) > 1:
        return [
            Problem(
                ERROR,
                f"la balise « {short(tag, 60)} » est à cheval sur un lien, un champ, une "
                "modification suivie ou un contrôle de contenu : le document produit serait invalide. "
                "Acceptez les modifications suivies, puis effacez la balise et retapez-la d'un seul tenant.",
                shown,
                part,
            )
        ]
    first, last = runs[0], runs[-1]
    between: list[etree._Element] = []
    node: etree._Element | None = first
    while node is not None and node is not last:
        node = node.getnext()
        if node is not None and node is not last:
            between.append(node)
    inside = [e for r in runs for e in r if e.tag not in _HARMLESS] + [
        e for b in between for e in b.iter() if e.tag not in _HARMLESS
    ]
    if inside:
        what = etree.QName(inside[0]).localname
        return [
            Problem(
                ERROR,
                f"la balise « {short(tag, 60)} » contient un élément « {what} » (saut de ligne, "
                "tabulation, image, champ…) qui serait supprimé ou rendrait le document invalide : "
                "retapez la balise sur une seule ligne, sans rien d'autre.",
                shown,
                part,
            )
        ]
    if len({_rpr_key(r) for r in runs}) > 1:
        head = short(ts[0].text or "", 30)
        return [
            Problem(
                WARNING,
                f"la balise « {short(tag, 60)} » mélange plusieurs mises en forme : la valeur "
                f"prendra celle du début de la balise (« {head} »). Pour la mettre en forme, sélectionnez "
                "toute la balise et appliquez la mise en forme d'un coup.",
                shown,
                part,
            )
        ]
    return []


def _replaced_text(p: etree._Element, text: str, shown: str, part: str) -> list[Problem]:
    """``{%p``/``{%tr`` replace their whole paragraph/row: other text there is lost."""
    out: list[Problem] = []
    for kind, container in (("p", p), ("tr", _ancestor(p, W + "tr"))):
        m = re.search(r"\{%-?\s*" + kind + r"\s[^%]*%\}", text)
        if not m or container is None:
            continue
        whole = text if kind == "p" else "".join(t.text or "" for t in container.iter(W + "t"))
        rest = whole.replace(m.group(0), "").strip()
        if rest:
            where = "paragraphe" if kind == "p" else "ligne de tableau"
            out.append(
                Problem(
                    WARNING,
                    f"« {m.group(0)} » remplace tout son {where} : le texte « {short(rest, 60)} » "
                    f"de ce {where} sera supprimé. Placez la balise seule dans son {where}.",
                    shown,
                    part,
                )
            )
    return out


def _ancestor(el: etree._Element, tag: str) -> etree._Element | None:
    """The nearest ancestor of ``el`` with ``tag``; ``None`` when there is none."""
    node = el.getparent()
    while node is not None and node.tag != tag:
        node = node.getparent()
    return node
