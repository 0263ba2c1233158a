"""The skeleton and motion of an Acclaim file (``.asf`` / ``.amc``) and their forward
kinematics: joint positions per frame. The files are read by :mod:`nri.data.mocap_asf`
(which re-exports these names).

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

from dataclasses import dataclass

import numpy as np

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
