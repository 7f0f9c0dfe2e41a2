"""Building bad and hostile files for the robustness tests: what an attacker could write.

Every forged model file carries a correct sha256 (the digest protects against corruption,
not against someone who writes the file on purpose), so the loader's other checks are
what refuse it.
"""

import json
import struct
import zipfile

import numpy as np

import handgrad as hg
from handgrad.io import archive


def tiny_model(rng=0):
    return hg.Sequential(hg.Linear(4, 3, rng=rng), hg.ReLU(), hg.Linear(3, 2, rng=rng))


def model_arrays(model):
    return {f"model/{k}": v for k, v in model.state_dict().items()}


def write_forged(path, header_json, arrays):
    """An .npz holding ``header_json`` (any text) and ``arrays`` with a matching digest."""
    payload = dict(arrays)
    payload[archive.HEADER_KEY] = np.array(header_json)
    payload[archive.DIGEST_KEY] = np.array(archive.digest(header_json, arrays))
    with open(path, "wb") as f:
        np.savez(f, **payload)
    return path


def forged_model(path, architecture, arrays):
    header = {"format": "handgrad-model", "architecture": architecture, "version": archive.FORMAT_VERSION}
    return write_forged(path, json.dumps(header, sort_keys=True), arrays)


def deep_architecture_json(depth):
    """The header text of a model nested ``depth`` Sequentials deep (built as text: json.dumps
    itself would recurse too deeply)."""
    inner = '{"type": "ReLU", "config": {}}'
    arch = '{"type": "Sequential", "layers": [' * depth + inner + "]}" * depth
    return '{"architecture": %s, "format": "handgrad-model", "version": %d}' % (arch, archive.FORMAT_VERSION)


def set_declared_size(path, member, size):
    """Rewrite the uncompressed size the zip's central directory declares for ``member``."""
    data = bytearray(open(path, "rb").read())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(member)
    name = member.encode()
    # central directory entry: signature PK\1\2; uncompressed size at offset 24, name at 46
    pos = data.find(b"PK\x01\x02" + bytes(0))
    while pos >= 0:
        n = struct.unpack("<H", data[pos + 28:pos + 30])[0]
        if bytes(data[pos + 46:pos + 46 + n]) == name:
            data[pos + 24:pos + 28] = struct.pack("<I", size)
            break
        pos = data.find(b"PK\x01\x02", pos + 4)
    else:
        raise AssertionError(f"{member} not found")
    assert info is not None
    open(path, "wb").write(bytes(data))
    return path


def idx_header(code, shape):
    return struct.pack(f">BBBB{len(shape)}I", 0, 0, code, len(shape), *shape)
