"""Data for the causal-lm recipe: a JSONL data set tokenised and packed into sequences of
the task's length, or seeded synthetic token sequences when no data set is given.

Tokenizer: no tokenizer can be downloaded on these machines, so the default is a byte-level
tokenizer (token id = UTF-8 byte, 0 separates documents; the model needs a vocabulary of
at least 256). A local Hugging Face tokenizer directory can be named with the
hyperparameter `tokenizer` (loaded with local_files_only).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Iterator

import torch
from torch.utils.data import DataLoader, Dataset, RandomSampler

from .errors import BadInputError

DOCUMENT_SEPARATOR = 0
SYNTHETIC_ALPHABET = 32


class ByteTokenizer:
    vocab_size = 256

    def encode(self, text: str) -> list[int]:
        return list(text.encode("utf-8"))


def _tokenizer(name: str | None, vocab_size: int):
    if name is None:
        if vocab_size < ByteTokenizer.vocab_size:
            raise BadInputError(
                "task.model", f"the byte-level tokenizer needs a vocabulary of at least 256 tokens, the model has {vocab_size}"
            )
        return ByteTokenizer()
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(name, local_files_only=True)
    except (OSError, ValueError) as error:
        raise BadInputError("task.hyperparameters.tokenizer", f"cannot load a local tokenizer from {name!r}: {error}") from error


def read_jsonl_texts(path: Path, text_field: str) -> list[str]:
    field = "task.entrypoint.dataset"
    if not path.is_file():
        raise BadInputError(field, f"expected a local JSONL file, got {str(path)!r} (no such file)")
    texts: list[str] = []
    with path.open("r", encoding="utf-8", errors="strict") as stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise BadInputError(field, f"line {number} of {path} is not JSON: {error.msg}") from error
            if not isinstance(record, dict) or not isinstance(record.get(text_field), str):
                raise BadInputError(field, f"line {number} of {path}: expected an object with a string field {text_field!r}")
            texts.append(record[text_field])
    if not texts:
        raise BadInputError(field, f"{path} holds no records")
    return texts


def pack(token_lists: Iterable[list[int]], sequence_length: int) -> torch.Tensor:
    """Concatenate documents (separated by DOCUMENT_SEPARATOR) and cut into rows of
    `sequence_length`; the tail that does not fill a row is dropped."""
    stream: list[int] = []
    for tokens in token_lists:
        stream.extend(tokens)
        stream.append(DOCUMENT_SEPARATOR)
    rows = len(stream) // sequence_length
    if rows == 0:
        raise BadInputError(
            "task.entrypoint.dataset", f"holds {len(stream)} tokens, fewer than one sequence of {sequence_length}"
        )
    return torch.tensor(stream[: rows * sequence_length], dtype=torch.long).view(rows, sequence_length)


class PackedDataset(Dataset):
    def __init__(self, rows: torch.Tensor) -> None:
        self.rows = rows

    def __len__(self) -> int:
        return self.rows.shape[0]

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        row = self.rows[index]
        return row, row


class SyntheticDataset(Dataset):
    """Seeded arithmetic token sequences (start and stride drawn per row) over the first
    `SYNTHETIC_ALPHABET` token ids: learnable within a few steps, so a falling loss means the
    model learns, and each row is a pure function of its index (no state to resume)."""

    def __init__(self, rows: int, sequence_length: int, vocab_size: int, seed: int) -> None:
        self.length = rows
        self.sequence_length = sequence_length
        self.vocab_size = vocab_size
        self.seed = seed

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + index)
        alphabet = min(self.vocab_size, SYNTHETIC_ALPHABET)
        start = int(torch.randint(0, alphabet, (1,), generator=generator))
        stride = int(torch.randint(1, 4, (1,), generator=generator))
        row = (start + stride * torch.arange(self.sequence_length)) % alphabet
        return row, row


def causal_lm_loader(
    *,
    dataset: str | None,
    batch_size: int,
    sequence_length: int,
    vocab_size: int,
    rows_wanted: int,
    seed: int,
    text_field: str,
    tokenizer: str | None,
) -> DataLoader:
    if sequence_length < 2:
        raise BadInputError("task.sequenceLength", f"expected at least 2 tokens per sample for a causal LM, got {sequence_length}")
    if dataset is None:
        data: Dataset = SyntheticDataset(max(rows_wanted, batch_size), sequence_length, vocab_size, seed)
        sampler = None
    else:
        encode = _tokenizer(tokenizer, vocab_size).encode
        texts = read_jsonl_texts(Path(dataset), text_field)
        rows = pack((encode(text) for text in texts), sequence_length)
        if int(rows.max()) >= vocab_size:
            raise BadInputError("task.entrypoint.dataset", f"token id {int(rows.max())} is outside the model's vocabulary of {vocab_size}")
        data = PackedDataset(rows)
        if len(data) < batch_size:
            raise BadInputError(
                "task.entrypoint.dataset", f"packs into {len(data)} sequences of {sequence_length}, fewer than one batch of {batch_size}"
            )
        sampler = RandomSampler(data, generator=torch.Generator().manual_seed(seed))
    return DataLoader(data, batch_size=batch_size, sampler=sampler, shuffle=False, drop_last=True)


def global_batches(make_loader, start_step: int) -> Iterator:
    """Batches in a fixed order from step 0, cycling epochs over one loader (a seeded
    sampler then draws a new order per epoch); the first `start_step` are skipped, so a
    resumed run sees exactly the batches an uninterrupted one would. A loader that can be
    iterated only once (a generator) is rebuilt for the next epoch."""
    loader = make_loader()
    step = 0
    ever_produced = False
    while True:
        produced = False
        for batch in loader:
            produced = ever_produced = True
            if step >= start_step:
                yield batch
            step += 1
        if not produced:
            if not ever_produced:
                raise BadInputError("get_dataloader", "the data loader yielded no batch")
            loader = make_loader()
