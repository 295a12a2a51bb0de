"""Aliases of running agents: `adjective-animal`, lowercase, drawn at random.

100 adjectives x 100 animals give 10,000 aliases; the repository retries a drawn alias
that is taken, and after a few clashes appends a number (`brave-otter-4821`).
"""

from __future__ import annotations

import random

ADJECTIVES = (
    "agile", "amber", "ancient", "bold", "brave", "bright", "brisk", "calm", "candid",
    "careful", "cheerful", "clever", "cosmic", "crisp", "curious", "daring", "deft",
    "eager", "earnest", "electric", "elegant", "fancy", "fearless", "fierce", "fluffy",
    "frosty", "gentle", "giant", "gleaming", "golden", "graceful", "happy", "hardy",
    "hidden", "humble", "icy", "jolly", "keen", "kind", "lively", "loyal", "lucky",
    "lunar", "merry", "mighty", "misty", "modest", "nimble", "noble", "odd", "patient",
    "peaceful", "plucky", "polite", "proud", "quick", "quiet", "radiant", "rapid",
    "rustic", "scarlet", "serene", "sharp", "shiny", "silent", "silver", "simple",
    "sleek", "smooth", "snowy", "solar", "spry", "steady", "stellar", "stoic", "sturdy",
    "sunny", "swift", "tender", "tidy", "tiny", "tranquil", "trusty", "upbeat", "valiant",
    "velvet", "vivid", "warm", "wary", "whimsical", "wild", "wise", "witty", "wooden",
    "young", "zany", "zealous", "zesty", "azure", "cobalt",
)  # fmt: skip

ANIMALS = (
    "albatross", "alpaca", "antelope", "badger", "beaver", "bison", "bobcat", "buffalo",
    "camel", "caribou", "cheetah", "chipmunk", "cobra", "condor", "cougar", "coyote",
    "crane", "crow", "dingo", "dolphin", "donkey", "dove", "eagle", "eel", "egret", "elk",
    "emu", "falcon", "ferret", "finch", "flamingo", "fox", "gazelle", "gecko", "gibbon",
    "giraffe", "goose", "gorilla", "grouse", "hamster", "hare", "hawk", "hedgehog",
    "heron", "hippo", "horse", "ibex", "ibis", "iguana", "impala", "jackal", "jaguar",
    "kestrel", "koala", "lemur", "leopard", "lion", "llama", "lobster", "lynx", "magpie",
    "marmot", "meerkat", "mink", "mole", "moose", "narwhal", "newt", "ocelot", "octopus",
    "orca", "osprey", "otter", "owl", "panda", "panther", "parrot", "pelican", "penguin",
    "puffin", "python", "quail", "rabbit", "raccoon", "raven", "reindeer", "robin",
    "salmon", "seal", "shark", "sparrow", "squid", "stork", "swan", "tiger", "toucan",
    "turtle", "walrus", "weasel", "wolf",
)  # fmt: skip


def new_alias() -> str:
    """A random `adjective-animal` alias (not checked for uniqueness: the repository does)."""
    return f"{random.choice(ADJECTIVES)}-{random.choice(ANIMALS)}"
