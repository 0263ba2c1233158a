"""Acclaim skeletons (``.asf``) and motions (``.amc``), and their forward kinematics.

The format (Acclaim Skeleton File Definition V1.10, M. Schafer 1995; CMU's notes at
graphics.cs.cmu.edu/nsp/course/cs229/info/ACCLAIMdef.html) is short, so we read it
ourselves: the one PyPI parser (``asfamc-parser`` 0.0.2, 2021) is not maintained.

Conventions (column vectors, ``p' = R p``):

* Euler angles in an order string (``axis 0 0 -20 XYZ``, ``dof rx ry rz``, the root's
  ``order ... RX RY RZ``) are rotations about fixed axes applied in the order written:
  ``XYZ`` is ``R = Rz(c) @ Ry(b) @ Rx(a)``.
* A bone's ``axis`` gives its local frame ``C``; its AMC angles give ``M`` (in the
  order of its ``dof``); its global rotation is ``R = R_parent @ C @ M @ C.T``.
* A bone's joint (its far end) is at ``p = p_parent + length * R @ direction``; the
  ``direction`` is in global coordinates of the rest pose (normalised here).
* The root is at ``position + (TX, TY, TZ)`` with rotation ``M_root`` from its AMC
  angles in the order of its ``order`` line (a non-zero ``orientation`` pre-set is
  refused: CMU's files have none).
* Lengths (bone lengths, root position and translations) are divided by ``:units
  length`` (CMU: 0.45) to get the skeleton's base unit, inches in the CMU database
  (mocap.cs.cmu.edu FAQ: metres = value * (1/0.45) * 2.54/100); angles are degrees
  unless ``:units angle rad`` (an AMC's ``:RADIANS`` / ``:DEGREES`` line decides for
  its own values).

These are the conventions of CMU's own tools and of the parser dNRI used (Graber &
Schwing 2020), verified by tests/test_mocap.py on hand-computed poses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nri.data.errors import DataError

INCH = 0.0254  # metres
ROTATIONS = ("rx", "ry", "rz")


@dataclass(frozen=True)
class Bone:
    """One bone: unit ``direction`` [3] and ``length`` in the file's numbers, the
    local frame ``axis`` [3, 3] (``C``), and its degrees of freedom (``rx``...)."""

    name: str
    direction: np.ndarray
    length: float
    axis: np.ndarray
    dof: tuple[str, ...]


@dataclass(frozen=True)
class Skeleton:
    """An ASF skeleton: the root (index 0) and the bones in file order.

    Attributes:
        names: joint names, ``"root"`` first, then the bones as the file lists them.
        parents: parent index per joint, -1 for the root.
        bones: one :class:`Bone` per joint after the root (``bones[i - 1]``).
        root_order: the root's AMC channels (``tx ty tz rx ry rz`` for CMU).
        root_position: the root's pre-set position [3].
        length_unit: ``:units length`` (file numbers per base unit).
        degrees: whether the ASF's angles are degrees.
        source: the file.
    """

    names: tuple[str, ...]
    parents: tuple[int, ...]
    bones: tuple[Bone, ...]
    root_order: tuple[str, ...]
    root_position: np.ndarray
    length_unit: float
    degrees: bool
    source: str

    def edges(self) -> np.ndarray:
        """The parent-child pairs, both directions, ``[N, N]`` indexed [receiver,
        sender] (1 = a bone joins them)."""
        n = len(self.names)
        adj = np.zeros((n, n), dtype=np.int64)
        for child, parent in enumerate(self.parents):
            if parent >= 0:
                adj[child, parent] = adj[parent, child] = 1
        return adj


@dataclass(frozen=True)
class Motion:
    """The frames of an AMC file: per channel owner (``root`` or a bone) its values
    ``[T, k]`` in radians (angles) or file numbers (translations)."""

    values: dict[str, np.ndarray]
    n_frames: int
    source: str


def _lines(path: Path, what: str) -> list[tuple[int, list[str]]]:
    """(line number, tokens) of the non-empty lines; ``#`` comments, commas and
    parentheses are whitespace (the spec's rule)."""
    try:
        text = path.read_text(encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise DataError(f"{path} is not a text file; expected {what}") from None
    except OSError as err:
        raise DataError(f"cannot read {path}: {err.strerror or err}") from None
    out = []
    for i, line in enumerate(text.splitlines(), 1):
        tokens = re.sub(r"[(),]", " ", line.split("#", 1)[0]).split()
        if tokens:
            out.append((i, tokens))
    return out


def _floats(
    path: Path, line: int, tokens: list[str], count: int, what: str
) -> list[float]:
    try:
        values = [float(t) for t in tokens]
    except ValueError:
        values = []
    if len(values) != count or not np.isfinite(values).all():
        raise DataError(
            f"{path} line {line}: {what} needs {count} numbers, got {' '.join(tokens)!r}"
        )
    return values


def euler(angles: np.ndarray, order: str) -> np.ndarray:
    """Rotation matrices for angles (radians) about fixed axes applied in ``order``.

    Shapes:
        angles ``[..., len(order)]`` -> ``[..., 3, 3]``; ``order`` like ``"xyz"``.
    """
    angles = np.asarray(angles, dtype=np.float64)
    out = np.broadcast_to(np.eye(3), (*angles.shape[:-1], 3, 3)).copy()
    for k, ax in enumerate(order.lower()):
        c, s = np.cos(angles[..., k]), np.sin(angles[..., k])
        r = np.zeros((*angles.shape[:-1], 3, 3))
        i, j = {"x": (1, 2), "y": (2, 0), "z": (0, 1)}[ax]
        a = "xyz".index(ax)
        r[..., a, a] = 1.0
        r[..., i, i] = r[..., j, j] = c
        r[..., i, j], r[..., j, i] = -s, s
        out = r @ out  # the next rotation acts after the ones before
    return out


def read_asf(path: str | Path) -> Skeleton:
    """Read an Acclaim skeleton file.

    Raises:
        DataError: not an ASF (no ``:bonedata``/``:hierarchy``), a malformed bone,
            a hierarchy naming an unknown bone, or a bone not reachable from the root.
    """
    path = Path(path)
    lines = _lines(path, "an Acclaim skeleton (.asf)")
    keys = {t[0].lower() for _, t in lines}
    if ":bonedata" not in keys or ":hierarchy" not in keys:
        raise DataError(
            f"{path} is not an Acclaim skeleton (.asf): it has no :bonedata and "
            ":hierarchy sections"
        )
    section, length_unit, degrees = "", 1.0, True
    root_order: tuple[str, ...] = ("tx", "ty", "tz", "rx", "ry", "rz")
    root_position = np.zeros(3)
    bones: list[Bone] = []
    bone: dict[str, object] | None = None
    children: dict[str, list[str]] = {}
    for no, tokens in lines:
        key = tokens[0].lower()
        if key.startswith(":"):
            section = key
            continue
        if section == ":units" and key == "length":
            (length_unit,) = _floats(path, no, tokens[1:2], 1, "units length")
            if length_unit <= 0:
                raise DataError(f"{path} line {no}: units length must be > 0")
        elif section == ":units" and key == "angle":
            if len(tokens) < 2 or tokens[1].lower() not in ("deg", "rad"):
                raise DataError(f"{path} line {no}: units angle must be deg or rad")
            degrees = tokens[1].lower() == "deg"
        elif section == ":root" and key == "order":
            root_order = tuple(t.lower() for t in tokens[1:])
            bad = set(root_order) - {"tx", "ty", "tz", *ROTATIONS}
            if bad or len(set(root_order)) != len(root_order):
                raise DataError(f"{path} line {no}: root order {tokens[1:]} is not "
                                "a list of distinct TX TY TZ RX RY RZ")  # fmt: skip
        elif section == ":root" and key == "position":
            root_position = np.array(_floats(path, no, tokens[1:], 3, "position"))
        elif section == ":root" and key == "orientation":
            if any(v != 0 for v in _floats(path, no, tokens[1:], 3, "orientation")):
                raise DataError(f"{path} line {no}: a non-zero root orientation is "
                                "not supported (CMU's skeletons have 0 0 0)")  # fmt: skip
        elif section == ":bonedata":
            if key == "begin":
                bone = {}
            elif key == "end" and bone is not None:
                bones.append(_bone(path, no, bone, degrees))
                bone = None
            elif bone is not None and key in ("name", "direction", "length", "axis",
                                              "dof"):  # fmt: skip
                bone[key] = (no, tokens[1:])
        elif section == ":hierarchy" and key not in ("begin", "end"):
            children.setdefault(tokens[0], []).extend(tokens[1:])
    return _assemble(path, bones, children, root_order, root_position, length_unit,
                     degrees)  # fmt: skip


def _bone(path: Path, end: int, raw: dict[str, object], degrees: bool) -> Bone:
    for key in ("name", "direction", "length", "axis"):
        if key not in raw:
            raise DataError(f"{path}: the bone ending at line {end} has no {key}")
    no, name = raw["name"]  # type: ignore[misc]
    if not name:
        raise DataError(f"{path} line {no}: a bone name is missing")
    no, tok = raw["direction"]  # type: ignore[misc]
    direction = np.array(_floats(path, no, tok, 3, "direction"))
    norm = np.linalg.norm(direction)
    no, tok = raw["length"]  # type: ignore[misc]
    (length,) = _floats(path, no, tok[:1], 1, "length")
    if norm == 0 and length != 0:
        raise DataError(f"{path} line {no}: bone {name[0]} has a zero direction")
    no, tok = raw["axis"]  # type: ignore[misc]
    order = tok[3].lower() if len(tok) == 4 else "xyz"
    if sorted(order) != ["x", "y", "z"]:
        raise DataError(f"{path} line {no}: axis order {tok[3]!r} is not a permutation "
                        "of XYZ")  # fmt: skip
    angles = np.array(_floats(path, no, tok[:3], 3, "axis"))
    angles = np.deg2rad(angles) if degrees else angles
    axis = euler(angles[["xyz".index(a) for a in order]], order)
    dof: tuple[str, ...] = ()
    if "dof" in raw:
        no, tok = raw["dof"]  # type: ignore[misc]
        dof = tuple(t.lower() for t in tok)
        bad = [d for d in dof if d not in ROTATIONS]
        if bad or len(set(dof)) != len(dof):
            raise DataError(f"{path} line {no}: bone {name[0]} has dof {' '.join(tok)}; "
                            "only distinct rx ry rz are supported")  # fmt: skip
    return Bone(name[0], direction / (norm or 1.0), length, axis, dof)


def _assemble(
    path: Path, bones: list[Bone], children: dict[str, list[str]],
    root_order: tuple[str, ...], root_position: np.ndarray, length_unit: float,
    degrees: bool,
) -> Skeleton:  # fmt: skip
    names = ("root", *(b.name for b in bones))
    if len(set(names)) != len(names):
        raise DataError(f"{path}: a bone name is given twice (or a bone is 'root')")
    index = {n: i for i, n in enumerate(names)}
    parents = [-2] * len(names)
    parents[0] = -1
    for parent, kids in children.items():
        for kid in (parent, *kids):
            if kid not in index:
                raise DataError(f"{path}: the hierarchy names {kid!r}, which is not a "
                                "bone of :bonedata")  # fmt: skip
        for kid in kids:
            if parents[index[kid]] != -2:
                raise DataError(f"{path}: {kid!r} has two parents in the hierarchy")
            parents[index[kid]] = index[parent]
    reached, todo = {0}, [0]
    while todo:
        p = todo.pop()
        for c, q in enumerate(parents):
            if q == p and c not in reached:
                reached.add(c)
                todo.append(c)
    missing = [names[i] for i in range(len(names)) if i not in reached]
    if missing:
        raise DataError(f"{path}: bone {missing[0]!r} is not connected to the root in "
                        ":hierarchy")  # fmt: skip
    return Skeleton(names, tuple(parents), tuple(bones), root_order,
                    root_position, length_unit, degrees, str(path))  # fmt: skip


def read_amc(path: str | Path, skeleton: Skeleton) -> Motion:
    """Read an AMC motion of ``skeleton``: numbered frames, each a line per bone with
    degrees of freedom (``root`` first by convention; any order is accepted).

    Raises:
        DataError: not an AMC (no frames), a bone the skeleton lacks, a wrong number
            of values, a frame without some bone (a truncated file), or frame
            numbers that skip.
    """
    path = Path(path)
    lines = _lines(path, "an Acclaim motion (.amc)")
    channels = {"root": skeleton.root_order}
    channels |= {b.name: b.dof for b in skeleton.bones if b.dof}
    degrees = skeleton.degrees
    frames: list[dict[str, list[float]]] = []
    numbers: list[int] = []
    for no, tokens in lines:
        head = tokens[0]
        if head.startswith(":"):
            if head.upper() in (":DEGREES", ":RADIANS"):
                degrees = head.upper() == ":DEGREES"
            continue
        if len(tokens) == 1 and head.isdigit():
            if numbers and int(head) != numbers[-1] + 1:
                raise DataError(f"{path} line {no}: frame {head} follows frame "
                                f"{numbers[-1]}; frames must be numbered 1, 2, 3, ...")  # fmt: skip
            _check_frame(path, frames, numbers, channels, no)
            numbers.append(int(head))
            frames.append({})
            continue
        if not frames:
            raise DataError(f"{path} line {no}: expected a frame number, got {head!r}; "
                            "is this an Acclaim motion (.amc)?")  # fmt: skip
        if head not in channels:
            asf = Path(skeleton.source).name
            why = (f"has no degrees of freedom in {asf}" if head in skeleton.names
                   else f"is not a bone of the skeleton {asf}")  # fmt: skip
            raise DataError(f"{path} line {no}: {head!r} {why}")
        frames[-1][head] = _floats(path, no, tokens[1:], len(channels[head]),
                                   f"{head} ({' '.join(channels[head])})")  # fmt: skip
    if not frames:
        raise DataError(f"{path} has no frames; is it an Acclaim motion (.amc)?")
    _check_frame(path, frames, numbers, channels, None)
    values = {}
    for name, dof in channels.items():
        v = np.array([f[name] for f in frames], dtype=np.float64)  # [T, k]
        if degrees:
            rot = [i for i, d in enumerate(dof) if d in ROTATIONS]
            v[:, rot] = np.deg2rad(v[:, rot])
        values[name] = v
    return Motion(values, len(frames), str(path))


def _check_frame(path: Path, frames: list, numbers: list[int], channels: dict,
                 line: int | None) -> None:  # fmt: skip
    if not frames:
        return
    lacking = [c for c in channels if c not in frames[-1]]
    if lacking:
        where = "at the end of the file (is it truncated?)" if line is None else (
            f"before line {line}")  # fmt: skip
        raise DataError(f"{path}: frame {numbers[-1]} lacks {lacking[0]!r} "
                        f"({len(lacking)} of {len(channels)} bones missing) {where}")  # fmt: skip


def forward_kinematics(
    skeleton: Skeleton, motion: Motion, units: str = "m"
) -> np.ndarray:
    """Joint positions per frame.

    Args:
        units: ``"m"`` (metres: base unit inches, CMU's), ``"in"`` (the skeleton's
            base unit: file numbers / ``:units length``) or ``"file"`` (the numbers
            as written, dNRI's choice).

    Shapes:
        -> ``[T, N, 3]``, joints in ``skeleton.names`` order.
    """
    scale = {"file": 1.0, "in": 1.0 / skeleton.length_unit,
             "m": INCH / skeleton.length_unit}[units]  # fmt: skip
    t = motion.n_frames
    n = len(skeleton.names)
    pos = np.zeros((t, n, 3))
    rot = np.zeros((t, n, 3, 3))
    root = motion.values["root"]  # [T, k]
    order = skeleton.root_order
    trans = np.zeros((t, 3))
    for k, ch in enumerate(order):
        if ch.startswith("t"):
            trans[:, "xyz".index(ch[1])] = root[:, k]
    angles = [k for k, ch in enumerate(order) if ch in ROTATIONS]
    pos[:, 0] = (skeleton.root_position + trans) * scale
    rot[:, 0] = euler(root[:, angles], "".join(order[k][1] for k in angles))
    for i in _topological(skeleton.parents):
        b = skeleton.bones[i - 1]
        p = skeleton.parents[i]
        if b.dof:
            m = euler(motion.values[b.name], "".join(d[1] for d in b.dof))  # [T,3,3]
        else:
            m = np.eye(3)
        local = b.axis @ m @ b.axis.T  # C M C^-1, [T, 3, 3] or [3, 3]
        rot[:, i] = rot[:, p] @ local
        offset = b.length * scale * b.direction  # [3]
        pos[:, i] = pos[:, p] + np.einsum("tij,j->ti", rot[:, i], offset)
    return pos


def _topological(parents: tuple[int, ...]) -> list[int]:
    """Joint indices (root excluded) so that every parent comes before its child."""
    out, done = [], {0}
    while len(done) < len(parents):
        for i, p in enumerate(parents):
            if i not in done and p in done:
                out.append(i)
                done.add(i)
    return out
