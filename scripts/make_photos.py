#!/usr/bin/python3
"""Writes the natural photos the app offers RGB models (assets/images/photos/):
public-domain / CC0 pictures from Debian's python3-skimage data, centre-cropped
to a square and resized to 224x224 (the usual ImageNet input), as JPEG, plus
photos.json with each picture's source and licence as skimage states them.

    /usr/bin/python3 scripts/make_photos.py          # write
    /usr/bin/python3 scripts/make_photos.py --check  # compare byte for byte, exit 1 on a difference
"""
import io
import json
import os
import sys

import numpy as np
from PIL import Image
import skimage.data

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "assets", "images", "photos")
SIZE = 224

# (file name, skimage function, what it shows, licence as skimage's docstring says)
PHOTOS = [
    ("cat.jpg", "chelsea", "Chelsea the cat (a tabby)", "CC0, photographer Stefan van der Walt"),
    ("coffee.jpg", "coffee", "a coffee cup on a saucer", "CC0, photographer Rachel Michetti"),
    ("astronaut.jpg", "astronaut", "astronaut Eileen Collins", "public domain (NASA)"),
    ("rocket.jpg", "rocket", "Falcon 9 launching DSCOVR", "public domain (SpaceX)"),
]


def render(function):
    image = getattr(skimage.data, function)()
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    h, w = image.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = Image.fromarray(image[top:top + side, left:left + side, :3])
    square = square.resize((SIZE, SIZE), Image.BICUBIC)
    buffer = io.BytesIO()
    square.save(buffer, format="JPEG", quality=90, optimize=True)
    return buffer.getvalue()


def main():
    check = "--check" in sys.argv
    outputs = {name: render(function) for name, function, _, _ in PHOTOS}
    listing = {"size": SIZE, "photos": [{"file": name, "source": "python3-skimage skimage.data." + function,
                                         "shows": shows, "licence": licence}
                                        for name, function, shows, licence in PHOTOS]}
    outputs["photos.json"] = (json.dumps(listing, indent=1) + "\n").encode()
    differ = []
    os.makedirs(OUT, exist_ok=True)
    for name, data in outputs.items():
        path = os.path.join(OUT, name)
        if check:
            if not os.path.exists(path) or open(path, "rb").read() != data:
                differ.append(name)
        else:
            with open(path, "wb") as f:
                f.write(data)
    if check:
        print("photos: " + ("reproduce byte for byte" if not differ else "DIFFER: " + ", ".join(differ)))
        return 1 if differ else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
