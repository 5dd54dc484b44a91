"""Compress-then-encrypt a file in authenticated chunks (AES-256-GCM), and the reverse.

File format (version 1)::

    header  = b"KANRIBK1" | key id (8 bytes) | nonce prefix (8 random bytes) | chunk size (4 bytes, BE)
    record* = ciphertext length (4 bytes, BE) | ciphertext (plaintext + 16-byte tag)

The plaintext is a zlib stream of the source file, cut into chunks of ``chunk size`` bytes. Chunk
``i`` is sealed with nonce ``prefix | i`` (4 bytes, BE) and associated data ``header | i (8 bytes) |
final flag``; exactly the last record has the final flag. So a changed byte, a reordered or dropped
record, a file cut after any record and data appended after the last one all fail to decrypt.
Neither side holds more than one chunk in memory.
"""
from __future__ import annotations

import base64
import hashlib
import os
import struct
import zlib
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"KANRIBK1"
HEADER_LENGTH = len(MAGIC) + 8 + 8 + 4
CHUNK_SIZE = 1024 * 1024
READ_SIZE = 256 * 1024
TAG_LENGTH = 16
KEY_LENGTH = 32


class BackupCryptoError(ValueError):
    """The encrypted file is damaged, truncated, or sealed with another key."""


def generate_key() -> bytes:
    """A new random 256-bit backup key."""
    return os.urandom(KEY_LENGTH)


def encode_key(key: bytes) -> str:
    """The key as the text stored in KANRI_BACKUP_KEY or the key file (urlsafe base64)."""
    return base64.urlsafe_b64encode(key).decode("ascii")


def decode_key(text: str) -> bytes:
    """Parse a key written by ``encode_key``; raises ValueError for anything but 32 bytes."""
    try:
        key = base64.urlsafe_b64decode(text.strip().encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise ValueError("backup key is not base64") from exc
    if len(key) != KEY_LENGTH:
        raise ValueError(f"backup key must be {KEY_LENGTH} bytes, got {len(key)}")
    return key


def key_id(key: bytes) -> str:
    """A short public fingerprint of the key (recorded in manifests; reveals nothing of the key)."""
    return hashlib.sha256(b"kanri-backup-key-id|" + key).hexdigest()[:16]


def _associated(header: bytes, index: int, final: bool) -> bytes:
    return header + struct.pack(">QB", index, 1 if final else 0)


def _nonce(prefix: bytes, index: int) -> bytes:
    if index >= 2**32:
        raise BackupCryptoError("too many chunks")
    return prefix + struct.pack(">I", index)


def encrypt_file(source: Path, target: Path, key: bytes, chunk_size: int = CHUNK_SIZE) -> None:
    """Compress and encrypt ``source`` into ``target`` (created 0600), one chunk at a time."""
    aead = AESGCM(key)
    prefix = os.urandom(8)
    header = MAGIC + bytes.fromhex(key_id(key)) + prefix + struct.pack(">I", chunk_size)
    compressor = zlib.compressobj(6)
    index = 0
    buffer = bytearray()
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
        out.write(header)

        def emit(data: bytes, final: bool) -> None:
            nonlocal index
            sealed = aead.encrypt(_nonce(prefix, index), data, _associated(header, index, final))
            out.write(struct.pack(">I", len(sealed)))
            out.write(sealed)
            index += 1

        while True:
            block = src.read(READ_SIZE)
            if not block:
                break
            buffer += compressor.compress(block)
            while len(buffer) >= chunk_size:
                emit(bytes(buffer[:chunk_size]), final=False)
                del buffer[:chunk_size]
        buffer += compressor.flush()
        while len(buffer) > chunk_size:
            emit(bytes(buffer[:chunk_size]), final=False)
            del buffer[:chunk_size]
        emit(bytes(buffer), final=True)
        out.flush()
        os.fsync(out.fileno())


def decrypt_file(source: Path, target: Path, key: bytes) -> None:
    """Decrypt and decompress ``source`` into ``target``; raises BackupCryptoError on any damage."""
    aead = AESGCM(key)
    with open(source, "rb") as src:
        header = src.read(HEADER_LENGTH)
        if len(header) != HEADER_LENGTH or not header.startswith(MAGIC):
            raise BackupCryptoError("not a kanri backup file (bad header)")
        if header[8:16] != bytes.fromhex(key_id(key)):
            raise BackupCryptoError("sealed with another backup key (key id differs)")
        prefix = header[16:24]
        (chunk_size,) = struct.unpack(">I", header[24:28])
        decompressor = zlib.decompressobj()
        index = 0
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            while True:
                length_bytes = src.read(4)
                if not length_bytes:
                    raise BackupCryptoError(f"truncated: the file ends after chunk {index} without its final chunk")
                if len(length_bytes) != 4:
                    raise BackupCryptoError(f"truncated inside the length of chunk {index}")
                (length,) = struct.unpack(">I", length_bytes)
                if length < TAG_LENGTH or length > chunk_size + TAG_LENGTH:
                    raise BackupCryptoError(f"chunk {index} has an impossible length {length}")
                sealed = src.read(length)
                if len(sealed) != length:
                    raise BackupCryptoError(f"truncated inside chunk {index}")
                final = src.peek(1)[:1] == b"" if hasattr(src, "peek") else False
                try:
                    data = aead.decrypt(_nonce(prefix, index), sealed, _associated(header, index, final))
                except InvalidTag:
                    if not final:
                        raise BackupCryptoError(f"chunk {index} is damaged (authentication failed)") from None
                    raise BackupCryptoError(f"chunk {index} is damaged or the file was cut "
                                            "(authentication failed)") from None
                try:
                    out.write(decompressor.decompress(data))
                except zlib.error as exc:  # authenticated, so only a wrong writer could cause this
                    raise BackupCryptoError(f"chunk {index} does not decompress: {exc}") from None
                index += 1
                if final:
                    break
            out.write(decompressor.flush())
            if not decompressor.eof:
                raise BackupCryptoError("the compressed stream is incomplete")


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(READ_SIZE), b""):
            digest.update(block)
    return digest.hexdigest()
