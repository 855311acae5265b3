"""Upload safety shared by every page that takes a file.

Four pages take files: the spend upload, the contract register import, a delivery
return's evidence file and the admin's "Load reference data". Each is protected
the same way:

* **Size, before reading.** ``LimitedUploadHandler`` (first in
  ``FILE_UPLOAD_HANDLERS``) counts every uploaded file's bytes as they arrive.
  Past the limit of the page (``UPLOAD_LIMITS``, by URL name; ``MAX_UPLOAD_MB``
  for any other page) the rest is counted but not kept, and the form gets a
  ``TooBigUpload`` (its real size, no content), which ``size_error`` turns into
  "The file "x.csv" is 61.2 MB, more than the 50 MB limit." Files under the
  limit go on to Django's own handlers: small ones in memory, the rest
  (over ``FILE_UPLOAD_MAX_MEMORY_SIZE``) to a temporary file on disk.
* **Type, by content.** ``sniff`` looks at the first bytes, never at the name:
  a PNG renamed ``.csv`` is a PNG image.
* **Archives.** ``check_zip_directory`` refuses, from the ZIP's directory and
  before anything is decompressed, members with unsafe names (``../..``,
  absolute paths, drive letters), too many members, a member compressed more
  than ``max_ratio`` to 1, or more uncompressed bytes in all than allowed;
  ``read_member`` and ``verify_members`` enforce the same limits while
  decompressing, so a directory that lies about sizes gains nothing. Member
  names are only ever shown, never used as paths: nothing is extracted to disk.
* **Storage.** Uploaded files are kept under ``UPLOAD_ROOT``, outside
  ``STATIC_ROOT``, ``MEDIA_ROOT`` and the static folders, named by a hash or a
  random name, never by the user's file name (``under_upload_root`` checks).
"""

from __future__ import annotations

import math
import re
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.urls import Resolver404, resolve

MB = 1024 * 1024

# ---------------------------------------------------------------------------
# Size: a limit per page, enforced while the upload arrives
# ---------------------------------------------------------------------------


def _spend_limit() -> int:
    return settings.MAX_UPLOAD_MB


def _reference_limit() -> int:
    return getattr(settings, "REFERENCE_MAX_UPLOAD_MB", 4096)


def _evidence_limit() -> int:
    from socialvalue import models

    return models.EVIDENCE_MAX_MB


# URL name -> the limit in MB of the page's form (read when a request comes).
UPLOAD_LIMITS: dict[str, Callable[[], int]] = {
    "spend:upload": _spend_limit,
    "procure:contract-import": _spend_limit,
    "socialvalue:return-new": _evidence_limit,
    "socialvalue:return-edit": _evidence_limit,
    "admin:socialvalue_referenceload_load": _reference_limit,
}


def limit_mb_for(path_info: str) -> int:
    """The upload limit, in MB, of the page at ``path_info``."""
    try:
        view_name = resolve(path_info).view_name
    except Resolver404:
        view_name = ""
    return UPLOAD_LIMITS.get(view_name, _spend_limit)()


class TooBigUpload(UploadedFile):
    """A file that passed its page's limit while arriving: its name and real size,
    none of its content (reading it gives nothing)."""

    def __init__(self, name: str, content_type: str, size: int, limit_mb: int):
        super().__init__(BytesIO(b""), name, content_type, size)
        self.limit_mb = limit_mb

    def chunks(self, chunk_size=None):  # pragma: no cover - forms refuse it first
        raise ValueError(f'"{self.name}" was over the upload limit and not kept.')


class LimitedUploadHandler(FileUploadHandler):
    """Counts each file's bytes; past the page's limit, keeps none of the rest.

    The following handlers (memory, then temporary file) receive the bytes only
    while the file is within the limit; once it is over, this handler swallows
    the rest (counting it) and hands the form a ``TooBigUpload`` in place of the
    file, so the form can say how big the file was and what the limit is, and
    the other fields of the form are still read."""

    def handle_raw_input(
        self, input_data, META, content_length, boundary, encoding=None
    ):
        request = self.request
        path_info = request.path_info if request is not None else "/"
        user = getattr(request, "user", None)
        # Nobody signed in: no page takes a file from them, and the form is read
        # before any view asks for a login (the CSRF check reads it).
        self.anonymous = request is not None and not getattr(
            user, "is_authenticated", False
        )
        self.limit_mb = limit_mb_for(path_info)
        if self.limit_mb > _spend_limit() and not getattr(user, "is_staff", False):
            self.limit_mb = _spend_limit()  # the admin's big limit: its staff only
        self.limit = self.limit_mb * MB
        return None

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        if not hasattr(self, "limit"):  # no raw input step (called directly)
            self.handle_raw_input(None, {}, None, None)
        if self.anonymous:
            # The fields before the file are kept; nothing more is read.
            raise StopUpload(connection_reset=True)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            return None  # counted, not kept: the next handlers never see it
        return raw_data

    def file_complete(self, file_size):
        if self.received > self.limit:
            return TooBigUpload(
                self.file_name, self.content_type, self.received, self.limit_mb
            )
        return None  # the next handler returns the file


def megabytes(size: int, above: int | None = None) -> str:
    """``61.2 MB``; given the limit it is ``above``, rounded up where rounding
    would show it as no more than the limit (50.02 MB reads "50.1 MB")."""
    value = round(size / MB, 1)
    if above is not None and value <= above:
        value = math.ceil(size * 10 / MB) / 10
    return f"{value:,.1f} MB"


def size_error(upload: UploadedFile, limit_mb: int) -> str | None:
    """The message for a file over ``limit_mb`` (or cut off while arriving)."""
    name = Path(upload.name or "").name
    limit_mb = getattr(upload, "limit_mb", None) or limit_mb
    if isinstance(upload, TooBigUpload) or (upload.size or 0) > limit_mb * MB:
        return (
            f'The file "{name}" is {megabytes(upload.size, limit_mb)}, more than the '
            f"{limit_mb:,} MB limit."
        )
    return None


# ---------------------------------------------------------------------------
# Type: what the content is, whatever the file is called
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Sniffed:
    kind: str  # short code, e.g. "png", "pdf", "zip", "html", "text"
    description: str  # "a PNG image": what the file looks like, for messages

    @property
    def is_text(self) -> bool:
        return self.kind == "text"


_MAGIC: tuple[tuple[bytes, str, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "png", "a PNG image"),
    (b"\xff\xd8\xff", "jpeg", "a JPEG image"),
    (b"GIF87a", "gif", "a GIF image"),
    (b"GIF89a", "gif", "a GIF image"),
    (b"II*\x00", "tiff", "a TIFF image"),
    (b"MM\x00*", "tiff", "a TIFF image"),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "ole2",
        "an old Office 97-2003 file (an .xls workbook or a .doc document)",
    ),
    (b"\x7fELF", "exe", "a Linux program (ELF)"),
    (b"\xcf\xfa\xed\xfe", "exe", "a macOS program (Mach-O)"),
    (b"\xce\xfa\xed\xfe", "exe", "a macOS program (Mach-O)"),
    (b"\xfe\xed\xfa\xce", "exe", "a macOS program (Mach-O)"),
    (b"\xfe\xed\xfa\xcf", "exe", "a macOS program (Mach-O)"),
    (b"\xca\xfe\xba\xbe", "exe", "a program (Mach-O or Java class)"),
    (b"\x00asm", "exe", "a WebAssembly program"),
    (b"PK\x03\x04", "zip", "a ZIP archive"),
    (b"PK\x05\x06", "zip", "an empty ZIP archive"),
    (b"PK\x07\x08", "zip", "a ZIP archive"),
    (b"\x1f\x8b", "archive", "a gzip compressed archive"),
    (b"Rar!", "archive", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "archive", "a 7z archive"),
    (b"\xfd7zXZ\x00", "archive", "an xz compressed archive"),
    (b"{\\rtf", "rtf", "a Rich Text (RTF) document"),
)
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


def sniff(head: bytes) -> Sniffed:
    """What a file is, from its first bytes (64 KB is plenty)."""
    if not head.strip(b" \t\r\n\x00"):
        return Sniffed("empty", "an empty file")
    if b"%PDF-" in head[:1024]:
        return Sniffed("pdf", "a PDF document")
    for magic, kind, description in _MAGIC:
        if head.startswith(magic):
            return Sniffed(kind, description)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Sniffed("webp", "a WebP image")
    if head.startswith(b"MZ") and b"\x00" in head[:512]:
        return Sniffed("exe", "a Windows program (.exe or .dll)")
    if re.match(rb"BZh[1-9]1AY&SY", head):
        return Sniffed("archive", "a bzip2 compressed archive")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = head[: len(head) // 2 * 2].decode("utf-16")
        except UnicodeDecodeError:
            return Sniffed("binary", "a binary file")
    elif b"\x00" in head:
        return Sniffed("binary", "a binary file")
    else:
        text = head.removeprefix(_BOMS[0]).decode("utf-8", errors="replace")
    return _sniff_text(text)


def _sniff_text(text: str) -> Sniffed:
    start = text.lstrip("\ufeff \t\r\n")[:8192].lower()
    if start.startswith("<"):
        if start.startswith("<!doctype html") or re.search(
            r"<(html|head|body)\b", start
        ):
            return Sniffed("html", "a web page (HTML)")
        if re.search(r"<svg\b", start):
            return Sniffed("svg", "an SVG image")
        return Sniffed("xml", "an XML document")
    return Sniffed("text", "text")


_ACTIVE_MARKUP = re.compile(
    r"<\s*(script|html|body|iframe|object|embed|svg|meta)\b|javascript:", re.IGNORECASE
)


def has_active_markup(text: str) -> bool:
    """Text holding HTML or script anywhere: refused where a file is kept to be
    downloaded and opened (evidence), though a spend file may name a supplier
    "<script>" (it is only ever shown escaped)."""
    return _ACTIVE_MARKUP.search(text) is not None


def read_head(upload, size: int = 1 << 16) -> bytes:
    """The first ``size`` bytes of an uploaded (or any seekable) file, which is
    left at its start."""
    upload.seek(0)
    head = upload.read(size)
    upload.seek(0)
    return head


def sniff_file(upload) -> Sniffed:
    """``sniff`` of an uploaded file's first 64 KB."""
    return sniff(read_head(upload))


def describe_zip(archive: zipfile.ZipFile) -> Sniffed:
    """What a ZIP holds: an Office document, an OpenDocument file, or an archive.
    Reads at most 100 bytes of one member."""
    names = set(archive.namelist())
    if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
        return Sniffed("xlsx", "an Excel workbook (.xlsx)")
    if "word/document.xml" in names:
        return Sniffed("docx", "a Word document (.docx)")
    if "ppt/presentation.xml" in names:
        return Sniffed("pptx", "a PowerPoint presentation (.pptx)")
    if "mimetype" in names:
        with archive.open("mimetype") as member:
            mimetype = member.read(100).decode("ascii", "replace")
        if "opendocument.spreadsheet" in mimetype:
            return Sniffed("ods", "an OpenDocument spreadsheet (.ods)")
        if "opendocument.text" in mimetype:
            return Sniffed("odt", "an OpenDocument text document (.odt)")
        if "opendocument" in mimetype:
            return Sniffed("odf", "an OpenDocument file")
    return Sniffed("zip", "a ZIP archive")


# ---------------------------------------------------------------------------
# Archives: bombs and unsafe member names
# ---------------------------------------------------------------------------


class ArchiveRefused(ValueError):
    """A ZIP (or XLSX, DOCX …) that is not opened; ``str()`` says why, for the
    person who uploaded it."""


ARCHIVE_SUFFIXES = (".zip", ".gz", ".7z", ".rar", ".tar", ".tgz", ".bz2", ".xz")


@dataclass(frozen=True)
class ZipLimits:
    max_total: int  # uncompressed bytes of all members together
    max_members: int = 10_000
    max_ratio: int = 100  # uncompressed : compressed, for members over ratio_floor
    ratio_floor: int = 4 * MB
    refuse_nested: bool = True  # members named like archives (.zip, .gz …)


# Spend files and contract registers (read into memory): 500 MB unzipped.
SPREADSHEET_ZIP = ZipLimits(max_total=500 * MB)
# Reference data (streamed): Companies House is 2.5 GB unzipped, ONSPD 1.3 GB.
REFERENCE_ZIP = ZipLimits(max_total=16 * 1024 * MB, max_members=1_000)
# Evidence files kept as they are (DOCX, XLSX, ODT, ODS): 200 MB unzipped.
EVIDENCE_ZIP = ZipLimits(max_total=200 * MB, refuse_nested=False)


def unsafe_member_name(name: str) -> bool:
    """``../x``, ``/etc/passwd``, ``C:\\x`` or ``a\\..\\b``: a name that would
    leave its folder if it were ever used as a path (it never is)."""
    path = PurePosixPath(name.replace("\\", "/"))
    return (
        path.is_absolute()
        or ".." in path.parts
        or re.match(r"^[A-Za-z]:", name) is not None
        or "\x00" in name
    )


def check_zip_directory(
    archive: zipfile.ZipFile, label: str, limits: ZipLimits
) -> list[zipfile.ZipInfo]:
    """Refuse an archive from its directory alone, before decompressing anything.

    ``label`` names the file in messages (``"spend.zip"`` with its quotes)."""
    infos = archive.infolist()
    if len(infos) > limits.max_members:
        raise ArchiveRefused(
            f"{label} holds {len(infos):,} files, more than the {limits.max_members:,} "
            "a ZIP may hold here: the archive is refused."
        )
    total = 0
    for info in infos:
        if unsafe_member_name(info.filename):
            raise ArchiveRefused(
                f'{label} contains a file with an unsafe path ("{info.filename}"): '
                "the archive is refused."
            )
        if limits.refuse_nested and info.filename.lower().endswith(ARCHIVE_SUFFIXES):
            raise ArchiveRefused(
                f'{label} holds another archive ("{info.filename}"): archives '
                "inside archives are not opened; unzip it and upload what it holds."
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > limits.ratio_floor and ratio > limits.max_ratio:
            raise ArchiveRefused(
                f'{label} looks like a ZIP bomb: "{info.filename}" would unzip from '
                f"{megabytes(info.compress_size)} to {megabytes(info.file_size)} "
                f"({ratio:,.0f} to 1, more than {limits.max_ratio} to 1). The "
                "archive is refused."
            )
        total += info.file_size
        if total > limits.max_total:
            raise ArchiveRefused(
                f"{label} would be more than {megabytes(limits.max_total)} once "
                "unzipped: the archive is refused."
            )
    return infos


CHUNK = 1 << 20


def read_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, label: str, limit: int
) -> bytes:
    """A member's bytes, decompressed a chunk at a time and never more than
    ``limit`` (whatever the directory says it holds)."""
    parts: list[bytes] = []
    read = 0
    for chunk in _member_chunks(archive, info, label):
        read += len(chunk)
        if read > limit:
            raise ArchiveRefused(
                f"{label} is more than {megabytes(limit)} once unzipped: it is refused."
            )
        parts.append(chunk)
    return b"".join(parts)


def verify_members(
    archive: zipfile.ZipFile,
    label: str,
    limits: ZipLimits,
    infos: Iterable[zipfile.ZipInfo] | None = None,
) -> None:
    """Decompress every member into nothing, counting, so a library given the
    archive next (calamine, openpyxl) cannot be made to unzip more than the
    limits allow: each member is checked against its stated size and CRC, and
    all of them against ``limits.max_total``."""
    total = 0
    for info in archive.infolist() if infos is None else infos:
        for chunk in _member_chunks(archive, info, label):
            total += len(chunk)
            if total > limits.max_total:
                raise ArchiveRefused(
                    f"{label} is more than {megabytes(limits.max_total)} once "
                    "unzipped: it is refused."
                )


def _member_chunks(archive: zipfile.ZipFile, info: zipfile.ZipInfo, label: str):
    try:
        with archive.open(info) as member:
            while chunk := member.read(CHUNK):
                yield chunk
    except (
        zipfile.BadZipFile,
        zlib.error,  # a damaged deflate stream: zipfile lets it through
        OSError,
        RuntimeError,
        ValueError,
        EOFError,
    ) as exc:
        # zipfile stops at the stated size and checks the CRC: a member that
        # holds more than its directory entry says ends here.
        raise ArchiveRefused(
            f'{label} cannot be unzipped: "{info.filename}" is damaged or not what '
            f"the archive says it is ({exc})."
        ) from exc


# ---------------------------------------------------------------------------
# Storage: outside anything the web server serves
# ---------------------------------------------------------------------------


def served_roots() -> list[Path]:
    """Folders the web server serves files from."""
    roots = [
        getattr(settings, "STATIC_ROOT", None),
        getattr(settings, "MEDIA_ROOT", None),
    ]
    for entry in getattr(settings, "STATICFILES_DIRS", []):
        roots.append(entry[1] if isinstance(entry, tuple | list) else entry)
    return [Path(root).resolve() for root in roots if root]


def under_upload_root(path: str | Path) -> bool:
    """True when ``path`` is inside UPLOAD_ROOT and inside no served folder."""
    resolved = Path(path).resolve()
    upload_root = Path(settings.UPLOAD_ROOT).resolve()
    if not resolved.is_relative_to(upload_root):
        return False
    return not any(resolved.is_relative_to(root) for root in served_roots())
