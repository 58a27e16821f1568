"""One table of file signatures for every upload (kefu.core.uploads)."""

import io

import pytest

from kefu.core import uploads

SAMPLES = {
    "jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
    "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "webp": b"RIFF\x24\x00\x00\x00WEBPVP8 ",
    "pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3",
    "wav": b"RIFF\x24\x08\x00\x00WAVEfmt ",
    "mp3": b"ID3\x04\x00\x00\x00\x00\x00\x00",
}


@pytest.mark.parametrize(("kind", "data"), SAMPLES.items())
def test_each_kind_is_told_by_its_first_bytes(kind, data):
    upload = io.BytesIO(data + b"rest of the file")
    assert uploads.sniff(upload, uploads.KINDS) == uploads.KINDS[kind][0]
    assert upload.tell() == 0  # rewound for whoever stores it


def test_an_untagged_mp3_frame_is_audio_but_a_jpeg_is_not():
    assert uploads.sniff(io.BytesIO(b"\xff\xfb\x90\x64" + b"\x00" * 12), ["mp3"]).mime == "audio/mpeg"
    assert uploads.sniff(io.BytesIO(SAMPLES["jpeg"]), ["mp3"]) is None


def test_only_the_kinds_asked_for_are_accepted():
    assert uploads.sniff(io.BytesIO(SAMPLES["pdf"]), ["jpeg", "png"]) is None
    assert uploads.sniff(io.BytesIO(SAMPLES["webp"]), ["wav"]) is None  # both RIFF, different forms
    assert uploads.sniff(io.BytesIO(b"MZ\x90\x00 an exe renamed .pdf"), uploads.KINDS) is None
    assert uploads.sniff(io.BytesIO(b""), uploads.KINDS) is None
