"""Exact symmetry augmentation for the box systems (springs and charged particles).

Springs and charged particles move in the square box ``[-box_size, box_size]^2``, centred
on the origin, with elastic walls; forces depend only on relative positions (Hooke,
Coulomb) and are clipped per component. The 8 symmetries of the square (the dihedral
group D4: 4 rotations by multiples of 90 degrees, 4 reflections) are signed permutations
of the axes, so they commute with the walls, the per-component clipping and the forces:
a transformed trajectory is another exact solution with the same edges (and charges).
Positions and velocities take the same 2x2 matrix ``M``. Kuramoto has no such symmetry.

In normalised units (``Normalizer.fit_particles``: ``x' = a x + b`` with one ``(a, b)``
per group) the physical origin maps to ``c = b = -(max + min) / (max - min)``, so
``p' -> M (p' - c) + c``; e.g. ``x -> -x`` becomes ``x' -> -x' - 2 (max + min) / (max -
min)``. This needs x and y (and vx and vy) to share one ``(min, max)`` pair. Augmented
values can leave [-1, 1] when the training range is not symmetric about 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from nri.data.normalize import Normalizer

#: Group elements as 2x2 matrices acting on column vectors (x, y); index = element id.
D4_MATRICES: tuple[tuple[tuple[int, int], tuple[int, int]], ...] = (
    ((1, 0), (0, 1)),  # 0: identity
    ((0, -1), (1, 0)),  # 1: rotate +90 deg, (x, y) -> (-y, x)
    ((-1, 0), (0, -1)),  # 2: rotate 180 deg, (x, y) -> (-x, -y)
    ((0, 1), (-1, 0)),  # 3: rotate 270 deg, (x, y) -> (y, -x)
    ((-1, 0), (0, 1)),  # 4: reflect x, (x, y) -> (-x, y)
    ((1, 0), (0, -1)),  # 5: reflect y, (x, y) -> (x, -y)
    ((0, 1), (1, 0)),  # 6: swap, (x, y) -> (y, x)
    ((0, -1), (-1, 0)),  # 7: anti-swap, (x, y) -> (-y, -x)
)
#: ``INVERSE[k]`` undoes element ``k`` (rotations 1 and 3 swap; the rest are involutions).
INVERSE: tuple[int, ...] = (0, 3, 2, 1, 4, 5, 6, 7)
N_ELEMENTS = len(D4_MATRICES)
# Row i of M has one non-zero entry: new[i] = sign[i] * old[perm[i]] (exact, no products).
_PERM = tuple(tuple(abs(r[1]) for r in m) for m in D4_MATRICES)  # [8, 2]
_SIGN = tuple(tuple(r[0] + r[1] for r in m) for m in D4_MATRICES)  # [8, 2]
_NAMES = ("x", "y", "vx", "vy")
_ONLY = (
    "box symmetry augmentation applies only to springs/charged-style data (positions "
    "and velocities in a box centred on 0)"
)


@dataclass(frozen=True)
class BoxSymmetry:
    """The D4 symmetries of the box in normalised units.

    Attributes:
        pos_centre: normalised value of physical position 0 (shared by x and y).
        vel_centre: normalised value of physical velocity 0 (shared by vx and vy).
    """

    pos_centre: float
    vel_centre: float

    @classmethod
    def from_normalizer(cls, normalizer: Normalizer) -> BoxSymmetry:
        """Build from the normaliser the data were mapped with.

        Raises:
            ValueError: the feature names are not exactly ``("x", "y", "vx", "vy")``, or
                x and y (or vx and vy) do not share one (min, max) group.
        """
        names, groups = tuple(normalizer.names), tuple(normalizer.groups)
        if names != _NAMES:
            raise ValueError(
                f"{_ONLY}: expected features {_NAMES}, got {names}; "
                "do not augment this data set"
            )
        if groups[0] != groups[1] or groups[2] != groups[3]:
            raise ValueError(
                f"{_ONLY}, with x and y in one normalisation group and vx and vy in one: "
                f"got groups {groups}; refit with Normalizer.fit_particles"
            )
        centre = normalizer.transform(torch.zeros(4, dtype=torch.float64))  # [F]
        return cls(pos_centre=float(centre[0]), vel_centre=float(centre[2]))

    def apply(self, x: Tensor, element: Tensor) -> Tensor:
        """Transform each sample by its group element (numbering: :data:`D4_MATRICES`).

        Args:
            x: normalised trajectories, features (x, y, vx, vy).
            element: int64 ids in 0..7, one per sample; 0 is the identity.

        Returns:
            A new tensor, same shape and dtype: ``M (p - c) + c`` on (x, y) and on (vx, vy).

        Shapes:
            x ``[B, N, T, 4]``, element ``[B]`` -> ``[B, N, T, 4]``.

        Raises:
            ValueError: wrong shapes, a non-floating ``x``, or ids outside 0..7.
        """
        if x.ndim != 4 or x.shape[-1] != 4 or not x.is_floating_point():
            raise ValueError(
                f"x must be a float [B, N, T, 4] tensor, got {x.dtype} {tuple(x.shape)}"
            )
        if element.shape != (x.shape[0],) or element.dtype != torch.int64:
            raise ValueError(
                f"element must be int64 [B] with B={x.shape[0]}, got {element.dtype} "
                f"{tuple(element.shape)}"
            )
        if element.numel() and (element.min() < 0 or element.max() >= N_ELEMENTS):
            raise ValueError(
                f"element ids must be in 0..{N_ELEMENTS - 1}, got values in "
                f"{int(element.min())}..{int(element.max())}"
            )
        return self._transform(x, element.to(x.device))

    def _transform(self, x: Tensor, element: Tensor) -> Tensor:
        """:meth:`apply` without the checks (``element`` on ``x``'s device, valid)."""
        perm = torch.tensor(_PERM, device=x.device)[element]  # [B, 2]
        sign = torch.tensor(_SIGN, dtype=x.dtype, device=x.device)[element]  # [B, 2]
        index = perm[:, None, None, :].expand(*x.shape[:3], 2)  # [B, N, T, 2]
        sign = sign[:, None, None, :]  # [B, 1, 1, 2]
        out = []
        for lo, c in ((0, self.pos_centre), (2, self.vel_centre)):
            # M (p - c) + c = sign * p[perm] + (1 - sign) c: exact where sign = +1
            pair = torch.gather(x[..., lo : lo + 2], -1, index)  # [B, N, T, 2]
            out.append(sign * pair + (1 - sign) * c)  # [B, N, T, 2]
        return torch.cat(out, dim=-1)  # [B, N, T, 4]

    def random(self, x: Tensor, generator: torch.Generator | None) -> Tensor:
        """Apply one element per sample, drawn uniformly from the 8 with ``generator``.

        Args:
            x: normalised trajectories, as for :meth:`apply`.
            generator: source of the draws (ids are drawn on its device, or on ``x``'s
                with the global generator when ``None``).

        Shapes:
            x ``[B, N, T, 4]`` -> ``[B, N, T, 4]``.
        """
        device = generator.device if generator is not None else x.device
        element = torch.randint(
            N_ELEMENTS, (x.shape[0],), generator=generator, device=device
        )  # [B]
        return self._transform(x, element.to(x.device))  # ids valid by construction
