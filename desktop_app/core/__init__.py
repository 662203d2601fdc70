"""Qt-free engine: scanning, decoding, embedding, the on-disk store and search.

Nothing in this package may import Qt; the CLI, the tests and the GUI all sit on top of it.
TensorFlow is imported lazily, only when an embedder first has to compute something.
"""
