"""Deterministic, Docker-style random container names.

When you run ``docker run`` without ``--name``, the Docker daemon invents a
name such as ``reverent_dubinsky``. The generator lives in moby's
``internal/namesgenerator`` package (formerly ``pkg/namesgenerator``) and works
like this:

1. Pick a random adjective from a list of pleasant adjectives.
2. Pick a random surname from a list of notable scientists and hackers.
3. Join them with an underscore: ``<adjective>_<surname>``.
4. If the result is ``boring_wozniak``, start over, because Steve Wozniak is
   not boring. This is a real special case in Docker's source code.
5. If the caller says this is a *retry* (``retry > 0``), append one random
   digit ``0``-``9``, so ``focused_turing`` might become ``focused_turing7``.

The daemon calls the generator in a loop: attempt ``0`` gets a plain name and
attempts ``1`` to ``5`` get a name with a trailing digit. If all six names are
already taken, the daemon gives up and uses the container's short ID (the
first 12 hex characters of its ID) as the name instead.

This module reproduces that *behaviour* with two differences that make it
better suited for teaching and testing:

* It is **deterministic**: the "randomness" comes from SHA-256 of a seed
  string you provide, so the same seed always yields the same name. There is
  no clock, no ``random`` module and no ``os.urandom``.
* It uses netlab's **own word lists** (:data:`ADJECTIVES` and
  :data:`SURNAMES`), which have the same sizes as Docker's lists (108 and 236
  words) but are not copies of them.

Example:
    >>> from netlab.model.names import random_name
    >>> random_name("container-1")
    'decisive_curie'
    >>> random_name("container-1", retry=1)
    'glad_hodgkin8'

Attributes:
    ADJECTIVES: The 108 adjectives used as the first half of a name.
    SURNAMES: The 236 surnames used as the second half of a name.
    MAX_ATTEMPTS: How many names the Docker daemon tries before falling back
        to the short container ID.
"""

from __future__ import annotations

import hashlib

__all__ = ["ADJECTIVES", "MAX_ATTEMPTS", "SURNAMES", "random_name"]

ADJECTIVES: tuple[str, ...] = (
    "agile",
    "amiable",
    "ardent",
    "artful",
    "astute",
    "balanced",
    "benevolent",
    "blissful",
    "bold",
    "boring",
    "brave",
    "bright",
    "brilliant",
    "buoyant",
    "calm",
    "candid",
    "careful",
    "caring",
    "cheerful",
    "clever",
    "composed",
    "cordial",
    "courteous",
    "curious",
    "daring",
    "dazzling",
    "decisive",
    "dedicated",
    "devoted",
    "diligent",
    "eager",
    "earnest",
    "elegant",
    "eloquent",
    "energetic",
    "faithful",
    "fearless",
    "festive",
    "focused",
    "friendly",
    "generous",
    "genial",
    "gentle",
    "gifted",
    "glad",
    "gleeful",
    "graceful",
    "gracious",
    "happy",
    "hardy",
    "helpful",
    "hopeful",
    "humble",
    "inventive",
    "jolly",
    "jovial",
    "joyful",
    "keen",
    "kind",
    "lively",
    "loyal",
    "lucid",
    "lucky",
    "mellow",
    "merry",
    "mindful",
    "modest",
    "nifty",
    "nimble",
    "noble",
    "optimistic",
    "patient",
    "peaceful",
    "playful",
    "plucky",
    "polite",
    "practical",
    "precise",
    "proud",
    "quick",
    "quiet",
    "radiant",
    "rational",
    "relaxed",
    "resilient",
    "resourceful",
    "serene",
    "sharp",
    "sincere",
    "sleepy",
    "smart",
    "spirited",
    "splendid",
    "steady",
    "sunny",
    "swift",
    "tender",
    "thoughtful",
    "trusty",
    "upbeat",
    "valiant",
    "vibrant",
    "vigilant",
    "vivid",
    "warm",
    "wise",
    "witty",
    "zealous",
)
"""Pleasant, classroom-appropriate adjectives (lowercase ASCII letters only)."""

SURNAMES: tuple[str, ...] = (
    "abel",
    "adleman",
    "agnesi",
    "aho",
    "alhazen",
    "allen",
    "ampere",
    "archimedes",
    "aryabhata",
    "avicenna",
    "babbage",
    "backus",
    "banach",
    "baran",
    "bardeen",
    "bell",
    "bellovin",
    "bernoulli",
    "bhabha",
    "biruni",
    "blackwell",
    "bohr",
    "boltzmann",
    "boole",
    "borg",
    "bose",
    "bragg",
    "brahmagupta",
    "brattain",
    "burnell",
    "cantor",
    "carson",
    "cauchy",
    "cavendish",
    "cerf",
    "chadwick",
    "chagas",
    "chandrasekhar",
    "chebyshev",
    "chern",
    "chomsky",
    "clarke",
    "codd",
    "compton",
    "conway",
    "cook",
    "copernicus",
    "crick",
    "curie",
    "darwin",
    "descartes",
    "diffie",
    "dijkstra",
    "dirac",
    "doppler",
    "easley",
    "edison",
    "einstein",
    "elion",
    "emeagwali",
    "engelbart",
    "erdos",
    "estrin",
    "euclid",
    "euler",
    "faraday",
    "fermat",
    "fermi",
    "feynman",
    "fibonacci",
    "fleming",
    "floyd",
    "fourier",
    "franklin",
    "galileo",
    "galois",
    "gauss",
    "germain",
    "gibbs",
    "godel",
    "goldberg",
    "goldwasser",
    "goodall",
    "gosling",
    "hamilton",
    "hamming",
    "hawking",
    "heisenberg",
    "hellman",
    "herschel",
    "hertz",
    "hilbert",
    "hinton",
    "hoare",
    "hodgkin",
    "hollerith",
    "hooke",
    "hopper",
    "houssay",
    "hubble",
    "hypatia",
    "jackson",
    "jacobson",
    "jemison",
    "johnson",
    "joule",
    "joy",
    "kahan",
    "kahn",
    "kalam",
    "karp",
    "kelvin",
    "kepler",
    "kernighan",
    "khorana",
    "khwarizmi",
    "kilby",
    "kleinrock",
    "knuth",
    "kovalevskaya",
    "kwolek",
    "lamarr",
    "lamport",
    "laplace",
    "lattes",
    "lavoisier",
    "leakey",
    "leavitt",
    "lederberg",
    "leibniz",
    "leloir",
    "liskov",
    "lovelace",
    "lumiere",
    "maathai",
    "mandelbrot",
    "marconi",
    "matsumoto",
    "maxwell",
    "mayer",
    "mccarthy",
    "mcclintock",
    "meitner",
    "mendel",
    "mendeleev",
    "mensah",
    "merkle",
    "metcalfe",
    "micali",
    "milner",
    "minsky",
    "mirzakhani",
    "mockapetris",
    "molina",
    "montalcini",
    "moore",
    "morse",
    "nakamura",
    "nash",
    "neumann",
    "newton",
    "nightingale",
    "nobel",
    "noether",
    "norvig",
    "noyce",
    "ochoa",
    "ohm",
    "oppenheimer",
    "pascal",
    "pasteur",
    "pauling",
    "pavlov",
    "payne",
    "perlman",
    "pike",
    "planck",
    "poincare",
    "postel",
    "rabin",
    "raman",
    "ramanujan",
    "ride",
    "riemann",
    "ritchie",
    "rivest",
    "roentgen",
    "rubin",
    "russell",
    "rutherford",
    "sagan",
    "saha",
    "salk",
    "sammet",
    "sarabhai",
    "schrodinger",
    "shamir",
    "shannon",
    "shockley",
    "sinoussi",
    "somerville",
    "stallman",
    "stonebraker",
    "stroustrup",
    "sutherland",
    "tao",
    "tarjan",
    "tesla",
    "tharp",
    "thompson",
    "torvalds",
    "tsui",
    "tu",
    "turing",
    "ullman",
    "vaughan",
    "villani",
    "volta",
    "watt",
    "wiles",
    "williams",
    "wilson",
    "wing",
    "wirth",
    "wozniak",
    "wright",
    "wu",
    "yalow",
    "yamanaka",
    "yang",
    "yao",
    "yau",
    "yonath",
    "yukawa",
    "zhang",
    "zuse",
)
"""Surnames of notable scientists, engineers, mathematicians and hackers."""

MAX_ATTEMPTS: int = 6
"""Number of names the Docker daemon tries before using the short ID instead."""

_FORBIDDEN = "boring_wozniak"
"""The one combination Docker refuses to produce: Steve Wozniak is not boring."""


def _seed_bytes(seed: str, retry: int) -> bytes:
    """Build the bytes that are hashed for the first draw.

    The retry number is mixed in so that every attempt yields a fresh name,
    just as Docker draws new random words on every attempt.

    Args:
        seed: Caller-provided seed, e.g. a container ID.
        retry: Attempt number, ``0`` for the first attempt.

    Returns:
        The UTF-8 encoded seed, a NUL separator and the retry number.
    """
    return f"{seed}\x00{retry}".encode()


def _number(material: bytes) -> int:
    """Turn bytes into a large non-negative integer via SHA-256.

    Args:
        material: The bytes to hash.

    Returns:
        The 256-bit digest read as a big-endian unsigned integer.
    """
    return int.from_bytes(hashlib.sha256(material).digest(), "big")


def _draw(material: bytes) -> tuple[int, int]:
    """Pick an adjective index and a surname index from ``material``.

    This is a single draw. It may land on ``boring_wozniak``;
    :func:`random_name` is responsible for drawing again in that case.

    Args:
        material: The bytes to hash.

    Returns:
        ``(adjective_index, surname_index)``, valid indices into
        :data:`ADJECTIVES` and :data:`SURNAMES`.
    """
    number = _number(material)
    return number % len(ADJECTIVES), (number // len(ADJECTIVES)) % len(SURNAMES)


def random_name(seed: str, retry: int = 0) -> str:
    """Return a Docker-style ``adjective_surname`` name derived from ``seed``.

    The same ``(seed, retry)`` pair always yields the same name. If a draw
    produces ``boring_wozniak``, the hash is hashed again and a new pair of
    words is drawn, exactly like Docker's ``goto begin``. When ``retry`` is
    greater than zero, one digit (``0``-``9``, also derived from the hash) is
    appended, as Docker does for retries.

    Docker's daemon calls its generator with ``retry`` = 0, 1, ..., 5 (up to
    :data:`MAX_ATTEMPTS` = 6 attempts) until it finds a name no other
    container uses, and then falls back to the 12-character short ID. This
    function does not know which names are taken, so that loop and the
    fallback are the caller's job.

    Args:
        seed: Any string, e.g. a container ID. Determines the name.
        retry: Attempt number; ``0`` for the first attempt. Values above zero
            add a trailing digit.

    Returns:
        A name matching ``^[a-z]+_[a-z]+[0-9]?$``.

    Raises:
        ValueError: If ``retry`` is negative.

    Example:
        >>> random_name("netlab")
        'artful_floyd'
        >>> random_name("netlab") == random_name("netlab")
        True
        >>> random_name("netlab", retry=3)
        'loyal_vaughan6'
    """
    if retry < 0:
        message = f"retry must be >= 0, got {retry}"
        raise ValueError(message)
    material = _seed_bytes(seed, retry)
    while True:
        adjective_index, surname_index = _draw(material)
        name = f"{ADJECTIVES[adjective_index]}_{SURNAMES[surname_index]}"
        if name != _FORBIDDEN:
            break
        # Steve Wozniak is not boring: hash the hash and draw again.
        material = hashlib.sha256(material).digest()
    if retry > 0:
        digit = _number(material) // (len(ADJECTIVES) * len(SURNAMES)) % 10
        name += str(digit)
    return name
