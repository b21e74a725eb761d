"""Hits on resting objects: something sets a still object moving (a pen strikes a coin).

The dominant-region track of ``analysis`` follows the striker, which often sweeps on without
stopping; the struck object, which starts from rest, times the hit. ``struck_contacts`` works on
the analysis frames after decoding (static camera only) and gives ``Features.struck``.
"""

from __future__ import annotations

import numpy as np

#: A resting object stays a candidate this many frames after it was last seen on its own (a
#: striker touching it merges the two blobs in the frames just before the hit; and objects at
#: rest are looked for only every other frame).
_STRUCK_KEEP = 6


def struck_contacts(greys: list[np.ndarray]) -> np.ndarray:
    """Objects at rest that something else sets moving: ``(frames, 3)`` of ``woke, cx, cy``.

    Static camera only, at half the analysis size. Foreground differs from the median
    background or from the median of what comes later (an object lying still for most of the
    clip is part of the median, not of what follows its being struck away); a blob whose
    outline is in a reference rather than in the picture is a ghost, not an object. An object
    is at rest when it is a foreground blob of its own (at least 0.2% of the picture, not
    touching the border: something reaching in from outside is held, not struck) whose pixels
    have not changed for 4 frames. It is struck at frame ``i`` when, within ``_STRUCK_KEEP``
    frames of last being seen alone and unchanged since, at least half its pixels change from
    frame ``i - 1`` to ``i`` (an abrupt start: a hand lifting an object starts slowly) while
    something moved within one object size of it in the step before (the striker arriving; an
    object that starts by itself has none). ``woke`` is that share (0 where nothing is struck);
    the contact lies between frames ``i - 1`` and ``i``. A hit on a resting object is what
    tracking the dominant moving region misses: the striker often sweeps on without stopping
    while the struck object starts from rest.
    """
    import cv2

    n = len(greys)
    out = np.zeros((n, 3))
    if n < 6:
        return out
    h, w = greys[0].shape[0] // 2, greys[0].shape[1] // 2
    small = [cv2.resize(g, (w, h), interpolation=cv2.INTER_AREA) for g in greys]
    step = max(1, n // 25)
    sample = small[::step]
    background = np.median(np.stack(sample), axis=0).astype(np.uint8)
    sigma = 1.4826 * float(np.median([np.median(cv2.absdiff(g, background)) for g in sample[:12]]))
    # the second reference: for each stretch of 8 samples, the median of the samples after it
    chunk = 8 * step
    later = [np.median(np.stack(small[start + chunk::step]), axis=0).astype(np.uint8)
             if len(small[start + chunk::step]) >= 3 else background for start in range(0, n, chunk)]
    level, moved = max(18.0, 5.0 * sigma), max(10.0, 4.0 * sigma)
    kernel = np.ones((3, 3), np.uint8)
    min_area = max(6, int(0.002 * h * w))
    still = np.zeros((h, w), np.uint8)  # frames since each pixel last changed (saturating at 255)
    resting: list[tuple[tuple[int, int, int, int], np.ndarray, int]] = []  # (box, mask in box, frame)
    changes: list[np.ndarray] = [np.zeros((h, w), np.uint8)]  # 255 where frame j - 1 -> j changed
    for i, g in enumerate(small):
        if i:
            _, change = cv2.threshold(cv2.absdiff(g, small[i - 1]), moved, 255, cv2.THRESH_BINARY)
            change = cv2.morphologyEx(change, cv2.MORPH_OPEN, kernel)
            cv2.add(still, 1, dst=still)
            cv2.subtract(still, change, dst=still)  # back to 0 where it changed
            changes.append(change)
            if len(changes) > _STRUCK_KEEP + 2:
                changes[-_STRUCK_KEEP - 3] = None  # only the last few are looked at
            alive = []
            for box, m, seen in resting:
                x0, y0, bw, bh = box
                woke = _share(change, box, m)
                if woke >= 0.5:
                    quiet = all(_share(changes[j], box, m) < 0.15 for j in range(seen + 1, i))
                    if quiet and _striker_near(box, m, changes[i - 1]) and woke > out[i, 0]:
                        ys, xs = np.nonzero(m)
                        out[i] = (woke, (x0 + xs.mean() + 0.5) / w, (y0 + ys.mean() + 0.5) / h)
                    continue  # moving now: no longer at rest
                if i - seen < _STRUCK_KEEP:
                    alive.append((box, m, seen))
            resting = alive
        if i % 2 and i + 1 < n:
            continue  # objects at rest are looked for every other frame: one at rest stays so for 4
        _, fg = cv2.threshold(cv2.max(cv2.absdiff(g, background), cv2.absdiff(g, later[i // chunk])), level, 255,
                              cv2.THRESH_BINARY)
        fg = cv2.morphologyEx(fg, cv2.MORPH_OPEN, kernel)
        _, calm = cv2.threshold(still, 3, 255, cv2.THRESH_BINARY)
        calm = cv2.bitwise_and(fg, calm)
        if cv2.countNonZero(calm) < 0.9 * min_area:
            continue  # no object at rest: labelling (the costly part) is skipped
        # label only around what is at rest; a blob cut by that window's edge is partly elsewhere
        cx0, cy0, cw, ch = cv2.boundingRect(calm)
        ax, ay = max(0, cx0 - 4), max(0, cy0 - 4)
        bx, by = min(w, cx0 + cw + 4), min(h, cy0 + ch + 4)
        count, labels, stats, _ = cv2.connectedComponentsWithStats(fg[ay:by, ax:bx], connectivity=8)
        for k in range(1, count):
            x0, y0, bw, bh, area = (int(v) for v in stats[k])
            if area < min_area or x0 == 0 or y0 == 0 or x0 + bw == bx - ax or y0 + bh == by - ay:
                continue  # too small, or touching the picture's border or the window's edge
            m = labels[y0:y0 + bh, x0:x0 + bw] == k
            box = (x0 + ax, y0 + ay, bw, bh)
            if float((still[box[1]:box[1] + bh, box[0]:box[0] + bw][m] >= 4).mean()) < 0.9:
                continue
            if not _has_outline(g, (background, later[i // chunk]), box, m):
                continue  # a ghost: what is missing now but lies there in a reference
            # the newest sighting replaces older ones of the same object
            resting = [r for r in resting if not _boxes_meet(r[0], box)] + [(box, m, i)]
    return out


def _has_outline(grey: np.ndarray, references: tuple[np.ndarray, ...], box: tuple[int, int, int, int],
                 m: np.ndarray) -> bool:
    """Is the blob ``m`` (within ``box``) an object in ``grey``, not a ghost? An object has an
    outline in the picture; a ghost -- a place that differs from a reference only because
    something lies there in the reference -- has its outline in the reference instead. Compares
    the gradient along the blob's edge in the picture with that in the reference it differs
    from most."""
    import cv2

    x0, y0, bw, bh = box
    h, w = grey.shape
    ax, ay, bx, by = max(0, x0 - 1), max(0, y0 - 1), min(w, x0 + bw + 1), min(h, y0 + bh + 1)
    blob = np.zeros((by - ay, bx - ax), np.uint8)
    blob[y0 - ay:y0 - ay + bh, x0 - ax:x0 - ax + bw] = m
    edge = (cv2.dilate(blob, np.ones((3, 3), np.uint8)) - cv2.erode(blob, np.ones((3, 3), np.uint8))) > 0

    def outline(img: np.ndarray) -> float:
        crop = img[ay:by, ax:bx].astype(np.float32)
        gx, gy = cv2.Sobel(crop, cv2.CV_32F, 1, 0), cv2.Sobel(crop, cv2.CV_32F, 0, 1)
        return float(cv2.magnitude(gx, gy)[edge].mean())

    # the reference the blob differs from most is the one that tells object from ghost
    inside = blob > 0
    crop = grey[ay:by, ax:bx]
    ref = max(references, key=lambda r: float(cv2.absdiff(crop, r[ay:by, ax:bx])[inside].mean()))
    return outline(grey) >= 0.8 * outline(ref)


def _share(mask: np.ndarray, box: tuple[int, int, int, int], m: np.ndarray) -> float:
    """Share of the object's pixels (``m`` within ``box``) set in the 0/255 ``mask``."""
    x0, y0, bw, bh = box
    return float(np.count_nonzero(mask[y0:y0 + bh, x0:x0 + bw][m])) / max(1, int(m.sum()))


def _boxes_meet(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def _striker_near(box: tuple[int, int, int, int], m: np.ndarray, before: np.ndarray) -> bool:
    """Did something move within one object size of the object in the step just before it
    starts moving (``before``: the change mask of that step)? Its own motion is not looked at
    (it would always be near), so an object that starts by itself has no striker."""
    import cv2

    x0, y0, bw, bh = box
    pad = max(3, max(bw, bh))
    h, w = before.shape
    ax, ay = max(0, x0 - pad), max(0, y0 - pad)
    bx, by = min(w, x0 + bw + pad), min(h, y0 + bh + pad)
    obj = np.zeros((by - ay, bx - ax), np.uint8)
    obj[y0 - ay:y0 - ay + bh, x0 - ax:x0 - ax + bw] = m
    ring = (cv2.dilate(obj, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * pad + 1, 2 * pad + 1))) > 0) & (obj == 0)
    return bool(ring.any()) and np.count_nonzero(before[ay:by, ax:bx][ring]) >= 0.02 * int(ring.sum())
