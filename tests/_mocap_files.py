"""Acclaim files written by the tests themselves (no data are downloaded): a tiny
skeleton, and a 31-joint skeleton with the CMU database's joint names and hierarchy
(directions and lengths are our own round numbers, not subject 35's), with a
walking-like motion."""

from __future__ import annotations

from pathlib import Path

import numpy as np

# (name, direction, length, axis, dof) in the order of :bonedata
CMU_BONES: list[
    tuple[str, tuple[float, float, float], float, tuple[float, float, float], str]
] = []  # noqa: E501
for side, sx in (("l", 1.0), ("r", -1.0)):
    CMU_BONES += [
        (f"{side}hipjoint", (0.6 * sx, -0.7, 0.3), 2.5, (0, 0, 0), ""),
        (f"{side}femur", (0.34 * sx, -0.94, 0.0), 7.4, (0, 0, 20 * sx), "rx ry rz"),
        (f"{side}tibia", (0.34 * sx, -0.94, 0.0), 7.5, (0, 0, 20 * sx), "rx"),
        (f"{side}foot", (0.0, -0.2, 0.98), 2.3, (-90, 7 * sx, 20 * sx), "rx rz"),
        (f"{side}toes", (0.0, 0.0, 1.0), 1.1, (-90, 7 * sx, 20 * sx), "rx"),
    ]
CMU_BONES += [
    ("lowerback", (0.0, 1.0, 0.0), 2.0, (0, 0, 0), "rx ry rz"),
    ("upperback", (0.0, 1.0, 0.0), 2.0, (0, 0, 0), "rx ry rz"),
    ("thorax", (0.0, 1.0, 0.0), 2.0, (0, 0, 0), "rx ry rz"),
    ("lowerneck", (0.0, 1.0, 0.0), 1.6, (0, 0, 0), "rx ry rz"),
    ("upperneck", (0.0, 1.0, 0.0), 1.6, (0, 0, 0), "rx ry rz"),
    ("head", (0.0, 1.0, 0.0), 1.6, (0, 0, 0), "rx ry rz"),
]
for side, sx in (("l", 1.0), ("r", -1.0)):
    CMU_BONES += [
        (f"{side}clavicle", (sx, 0.15, 0.0), 3.5, (0, 0, 0), "ry rz"),
        (f"{side}humerus", (sx, 0.0, 0.0), 5.0, (0, 0, 90 * sx), "rx ry rz"),
        (f"{side}radius", (sx, 0.0, 0.0), 3.4, (0, 0, 90 * sx), "rx"),
        (f"{side}wrist", (sx, 0.0, 0.0), 1.7, (0, 0, 90 * sx), "ry"),
        (f"{side}hand", (sx, 0.0, 0.0), 0.7, (0, 0, 90 * sx), "rx rz"),
        (f"{side}fingers", (sx, 0.0, 0.0), 0.6, (0, 0, 90 * sx), "rx"),
        (f"{side}thumb", (0.7 * sx, 0.0, 0.7), 0.8, (-90, 45, 0), "rx rz"),
    ]
CMU_HIERARCHY = [
    "root lhipjoint rhipjoint lowerback",
    "lhipjoint lfemur", "lfemur ltibia", "ltibia lfoot", "lfoot ltoes",
    "rhipjoint rfemur", "rfemur rtibia", "rtibia rfoot", "rfoot rtoes",
    "lowerback upperback", "upperback thorax", "thorax lowerneck lclavicle rclavicle",
    "lowerneck upperneck", "upperneck head",
    "lclavicle lhumerus", "lhumerus lradius", "lradius lwrist", "lwrist lhand lthumb",
    "lhand lfingers",
    "rclavicle rhumerus", "rhumerus rradius", "rradius rwrist", "rwrist rhand rthumb",
    "rhand rfingers",
]  # fmt: skip


def asf_text(
    bones: list, hierarchy: list[str], length: float = 1.0, angle: str = "deg",
    root_order: str = "TX TY TZ RX RY RZ",
) -> str:  # fmt: skip
    """An ASF file: ``bones`` as (name, direction, length, axis, dof[, axis order])."""
    out = [
        "# written by the nri tests", ":version 1.10", ":name test", ":units",
        "  mass 1.0", f"  length {length}", f"  angle {angle}",
        ":documentation", "   a test skeleton",
        ":root", f"   order {root_order}", "   axis XYZ", "   position 0 0 0",
        "   orientation 0 0 0", ":bonedata",
    ]  # fmt: skip
    for i, (name, d, ln, ax, dof, *order) in enumerate(bones, 1):
        out += ["  begin", f"     id {i}", f"     name {name}",
                f"     direction {d[0]} {d[1]} {d[2]}", f"     length {ln}",
                f"     axis {ax[0]} {ax[1]} {ax[2]}  {order[0] if order else 'XYZ'}"]  # fmt: skip
        if dof:
            out.append(f"    dof {dof}")
            lims = ["(-180.0 180.0)"] * len(dof.split())
            out += [f"    limits {lims[0]}", *(f"           {x}" for x in lims[1:])]
        out.append("  end")
    out += [":hierarchy", "  begin", *(f"    {h}" for h in hierarchy), "  end"]
    return "\n".join(out) + "\n"


def amc_text(frames: list[dict[str, list[float]]]) -> str:
    """An AMC file: one dict {bone: values} per frame (written in dict order)."""
    out = ["#!OML:ASF test.asf", ":FULLY-SPECIFIED", ":DEGREES"]
    for i, frame in enumerate(frames, 1):
        out.append(str(i))
        out += [f"{name} " + " ".join(f"{v:.6f}" for v in vals)
                for name, vals in frame.items()]  # fmt: skip
    return "\n".join(out) + "\n"


def walk_frames(n_frames: int, phase: float = 0.0, speed: float = 0.2) -> list[dict]:
    """A walking-like motion of the CMU skeleton: legs and arms swing at 1 Hz (at
    120 frames per second), the root moves forward along z."""
    frames = []
    for t in range(n_frames):
        w = 2 * np.pi * t / 120.0 + phase
        s = np.sin(w)
        f: dict[str, list[float]] = {
            "root": [
                0.5 * np.sin(2 * w),
                16.0 + 0.3 * np.cos(2 * w),
                speed * t,
                2.0 * s,
                5.0 * s,
                1.0 * np.cos(w),
            ],  # fmt: skip
        }
        for name, *_, dof in CMU_BONES:
            if not dof:
                continue
            sign = -1.0 if name.startswith("r") else 1.0
            amp = {"femur": 30.0, "tibia": 25.0, "humerus": 20.0, "radius": 15.0}
            a = next((v for k, v in amp.items() if k in name), 3.0)
            swing = sign * a * s
            if "humerus" in name:
                swing = -swing
            if "tibia" in name or "radius" in name:
                swing = a + a * np.sin(w + sign * 1.2)
            f[name] = [swing] + [0.5 * a * 0.1 * s] * (len(dof.split()) - 1)
        frames.append(f)
    return frames


def write_cmu(
    root: Path, trials: dict[int, int], subject: int = 35, asf: bool = True
) -> Path:
    """``root/{subject}.asf`` and ``root/{subject}_{NN}.amc`` with ``frames`` frames
    per trial number."""
    root.mkdir(parents=True, exist_ok=True)
    if asf:
        text = asf_text(CMU_BONES, CMU_HIERARCHY, length=0.45)
        (root / f"{subject}.asf").write_text(text)
    for trial, n in trials.items():
        frames = walk_frames(n, phase=0.3 * trial)
        (root / f"{subject}_{trial:02d}.amc").write_text(amc_text(frames))
    return root
