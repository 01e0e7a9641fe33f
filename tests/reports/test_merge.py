"""``report --merge``: the streamed merge gives the document python-docx's merge gave (kept in
legacy_merge.py as the reference): same body, sections, page breaks, headers and footers per section."""

from __future__ import annotations

import hashlib
import io
import posixpath
import zipfile
from pathlib import Path

import pytest
from docx import Document
from lxml import etree

from e2docs.reports import EVALUATION, ReportError, candidate_context, merge_documents, template_path
from e2docs.reports.compiled import CompiledTemplate
from e2docs.reports.merge import W
from e2docs.reports.samples import sample_candidate, sample_evaluation
from tests.reports import legacy_merge
from tests.reports.test_compiled import PNG

R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"


class _Package:
    def __init__(self, path: Path) -> None:
        self.zip = zipfile.ZipFile(path)
        assert self.zip.testzip() is None

    def rels(self, member: str) -> dict[str, tuple[str, str]]:
        folder, name = posixpath.split(member)
        try:
            root = etree.fromstring(self.zip.read(posixpath.join(folder, "_rels", name + ".rels")))
        except KeyError:
            return {}
        out = {}
        for el in root.iter(RELS + "Relationship"):
            target = el.get("Target")
            if el.get("TargetMode") != "External":
                target = posixpath.normpath(posixpath.join(folder, target))
            out[el.get("Id")] = (el.get("Type").rsplit("/", 1)[-1], target)
        return out

    def normal(self, member: str) -> list:
        """``member``'s XML as (prefix, tag, attributes, text) in document order, relationship ids replaced
        by what they point at (a header's or footer's own content, an image's SHA-1, a URL)."""
        rels = self.rels(member)
        out = []
        for el in etree.fromstring(self.zip.read(member)).iter():
            attrs = {}
            for key, value in el.attrib.items():
                if key.startswith(R):
                    kind, target = rels[value]
                    if kind in ("header", "footer"):
                        value = (kind, self.normal(target))
                    elif kind == "image":
                        value = (kind, hashlib.sha1(self.zip.read(target)).hexdigest())
                    else:
                        value = (kind, target)
                attrs[key] = value
            out.append((el.prefix, el.tag, sorted(attrs.items(), key=str), el.text, el.tail))
        return out

    def content_types(self) -> set:
        root = etree.fromstring(self.zip.read("[Content_Types].xml"))
        return {tuple(sorted(el.attrib.items())) for el in root}


def _same_merge(paths: list[Path], tmp_path: Path) -> Path:
    old = _Package(legacy_merge.merge_documents(paths, tmp_path / "avant.docx"))
    new_path = merge_documents(paths, tmp_path / "apres.docx")
    new = _Package(new_path)
    assert new.normal("word/document.xml") == old.normal("word/document.xml")
    assert sorted(new.zip.namelist()) == sorted(old.zip.namelist())
    assert new.content_types() == old.content_types()
    for name in old.zip.namelist():
        if name == "word/document.xml":
            continue
        if name.endswith(".xml"):
            assert new.normal(name) == old.normal(name), name
        elif not name.endswith(".rels"):
            assert new.zip.read(name) == old.zip.read(name), name
    return new_path


def _sheets(tmp_path: Path, n: int, template: Path | None = None) -> list[Path]:
    compiled = CompiledTemplate(template or template_path(EVALUATION))
    paths = []
    for i in range(n):
        candidate = sample_candidate(f"0270941{i:04d}", f"NOM{i}", f"Prénom{i}")
        out = tmp_path / f"{i}.docx"
        paths.append(compiled.render_to(candidate_context(sample_evaluation(candidate)), out))
    return paths


@pytest.mark.parametrize("n", [1, 2, 7])
def test_merged_sheets_are_what_python_docx_merged(tmp_path, n):
    merged = _same_merge(_sheets(tmp_path, n), tmp_path)
    doc = Document(str(merged))
    assert len(doc.sections) == n
    assert [f"NOM{i}" in s.footer.paragraphs[0].text for i, s in enumerate(doc.sections)] == [True] * n


def _with_pictures(tmp_path: Path) -> Path:
    """A template with a picture in its header and body and a hyperlink: parts to relink."""
    doc = Document()
    doc.sections[0].header.paragraphs[0].add_run().add_picture(io.BytesIO(PNG))
    doc.sections[0].footer.paragraphs[0].text = "{{ candidat.nom }}"
    doc.add_paragraph("{{ candidat.nom }}")
    doc.add_picture(io.BytesIO(PNG))
    part = doc.part
    rid = part.relate_to("https://example.org/", legacy_merge.RT.HYPERLINK, is_external=True)
    link = etree.SubElement(doc.paragraphs[0]._p, W + "hyperlink", {R + "id": rid})
    etree.SubElement(etree.SubElement(link, W + "r"), W + "t").text = "lien"
    path = tmp_path / "modele.docx"
    doc.save(str(path))
    return path


def test_pictures_and_links_relinked_as_before(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    paths = _sheets(folder, 3, _with_pictures(tmp_path))
    merged = _same_merge(paths, tmp_path)
    with zipfile.ZipFile(merged) as zf:
        assert len([n for n in zf.namelist() if n.startswith("word/media/")]) == 1  # one copy of the image


def test_nothing_to_merge_and_unreadable_document_are_refused(tmp_path):
    with pytest.raises(ReportError, match="aucun document"):
        merge_documents([], tmp_path / "out.docx")
    bad = tmp_path / "abime.docx"
    bad.write_bytes(b"pas un zip")
    with pytest.raises(ReportError, match="illisible"):
        merge_documents(_sheets(tmp_path, 1) + [bad], tmp_path / "out.docx")
    assert not (tmp_path / "out.docx").exists()
