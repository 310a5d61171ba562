"""Look at the data before training: sizes, quality, class balance, lengths, and figures."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd

from fineclass import html as page_html
from fineclass import plots
from fineclass.data.long_texts import choose_mode, content_budget, kept_share
from fineclass.data.prepare import TaskData
from fineclass.data.tokenize import token_lengths, unknown_token_share, unknown_token_warning
from fineclass.outputs import write_text_atomic


@dataclass
class Exploration:
    rows: dict[str, int]
    dropped: dict[str, int]
    duplicates: dict[str, int]
    class_counts: dict[str, int]
    imbalance_ratio: float
    words_by_class: dict[str, dict[str, float]]
    token_percentiles: dict[str, int]
    max_length: int
    truncated_share: float
    labels_per_text: dict[str, float] = field(default_factory=dict)
    long_texts: dict = field(default_factory=dict)
    """The share of text tokens each --long-texts mode keeps, windows per text, and what auto would choose."""
    figures: dict[str, Path] = field(default_factory=dict)
    report_path: Path | None = None
    unknown_tokens: float | None = None
    """The share of the texts' tokens that the model's vocabulary reads as [UNK] (a sample of the texts)."""
    warnings: list[str] = field(default_factory=list)

    def _repr_html_(self) -> str:
        """A notebook cell shows the rows, the class balance and the first figures."""
        rows = page_html.table(["split", "rows", "skipped", "duplicates"],
                               [[s, n, self.dropped.get(s, 0), self.duplicates.get(s, 0)] for s, n in self.rows.items()])
        classes = page_html.table(["label", "texts"], sorted(self.class_counts.items(), key=lambda kv: -kv[1]))
        images = "".join(page_html.image(path, name) for name, path in list(self.figures.items())[:2] if Path(path).is_file())
        return (f"<p>imbalance ratio {self.imbalance_ratio}; {self.truncated_share:.2%} of texts exceed {self.max_length} "
                f"tokens</p>{rows}{classes}{images}")


def explore_task(task: TaskData, tokenizer, max_length: int, output_dir: Path) -> Exploration:
    frame = pd.concat(list(task.frames.values()), ignore_index=True)
    names = task.label_space.names
    counts = Counter(n for labels in frame["labels"] for n in labels)
    class_counts = {n: counts.get(n, 0) for n in names}
    present = [c for c in class_counts.values() if c]
    words = frame["text"].str.split().map(len)
    words_by = {n: [] for n in names}
    for w, labels in zip(words, frame["labels"]):
        for n in labels:
            words_by[n].append(int(w))
    lengths = token_lengths(list(frame["text"]), tokenizer, max_length=10**6)
    unknown = unknown_token_share(tokenizer, list(frame["text"]))
    warning = unknown_token_warning(tokenizer, [], unknown)
    result = Exploration(
        rows={s: len(f) for s, f in task.frames.items()},
        dropped=task.dropped,
        duplicates={s: int(f["text"].duplicated().sum()) for s, f in task.frames.items()},
        class_counts=class_counts,
        imbalance_ratio=round(max(present) / min(present), 2) if present else 0.0,
        words_by_class={n: {"mean": round(float(np.mean(v)), 1), "median": float(np.median(v))} for n, v in words_by.items() if v},
        token_percentiles={f"p{p}": int(np.percentile(lengths, p)) for p in (50, 90, 95, 99, 100)},
        max_length=max_length,
        truncated_share=round(float((lengths > max_length).mean()), 4),
        long_texts={"auto": choose_mode("auto", lengths, max_length)[0],
                    **kept_share(lengths, max_length, content_budget(tokenizer, max_length))},
        unknown_tokens=None if unknown is None else round(unknown, 4),
        warnings=[warning] if warning else [],
    )
    figures = output_dir / "plots"
    result.figures["class_counts"] = plots.plot_class_counts(class_counts, figures / "class_counts.png")
    result.figures["words_by_class"] = plots.plot_words_by_class({n: v for n, v in words_by.items() if v}, figures / "words_by_class.png")
    result.figures["token_lengths"] = plots.plot_token_lengths(lengths, max_length, figures / "token_lengths.png")
    if task.label_space.multi_label:
        add_label_sets(result, frame["labels"], names, figures)
    return result


def add_label_sets(result: Exploration, labels: pd.Series, names, figures: Path) -> None:
    """Multi-label data: labels per text, and which labels occur together."""
    per_text = [len(items) for items in labels]
    result.labels_per_text = {"mean": round(float(np.mean(per_text)), 3), "share_with_several": round(float(np.mean(np.array(per_text) > 1)), 4)}
    result.figures["labels_per_text"] = plots.plot_labels_per_text(per_text, figures / "labels_per_text.png")
    result.figures["cooccurrence"] = plots.plot_heatmap(
        cooccurrence(labels, names), names, figures / "cooccurrence.png", "Label co-occurrence", "label", "label"
    )


def long_texts_html(result: Exploration) -> str:
    kept = result.long_texts
    if not kept:
        return ""
    return (page_html.table(["--long-texts", "share of all text tokens the model reads"],
                            [[mode, f"{kept[mode]:.1%}"] for mode in ("truncate", "head-tail", "windows")])
            + f"<p>windows: {kept['windows_per_text']} a text on average, {kept['at_max_windows']:.1%} of texts at the "
              f"--max-windows cap. head-tail reads as many tokens as truncate, from both ends. "
              f"--long-texts auto would choose <b>{kept['auto']}</b>.</p>")


def cooccurrence(label_lists, names) -> np.ndarray:
    index = {n: i for i, n in enumerate(names)}
    matrix = np.zeros((len(names), len(names)), dtype=int)
    for labels in label_lists:
        for a, b in combinations(sorted(index[n] for n in labels), 2):
            matrix[a, b] += 1
            matrix[b, a] += 1
    return matrix


def write_explore_html(result: Exploration, source: str, path: Path) -> Path:
    h = page_html
    sections = [
        ("Rows", h.table(["split", "rows", "skipped (empty text or no label)", "duplicate texts"],
                         [[s, n, result.dropped.get(s, 0), result.duplicates.get(s, 0)] for s, n in result.rows.items()])),
        ("Classes", h.table(["label", "texts"], [[n, c] for n, c in result.class_counts.items()])
         + f"<p>Imbalance ratio (largest class / smallest): {result.imbalance_ratio}</p>"
         + h.image(result.figures["class_counts"], "class frequencies")),
        ("Words per text", h.table(["label", "mean", "median"], [[n, v["mean"], v["median"]] for n, v in result.words_by_class.items()])
         + h.image(result.figures["words_by_class"], "words per text by class")),
        ("Token lengths", h.table(["percentile", "tokens"], [[k, v] for k, v in result.token_percentiles.items()])
         + f"<p>{result.truncated_share:.2%} of texts are longer than the limit of {result.max_length} tokens.</p>"
         + long_texts_html(result)
         + h.image(result.figures["token_lengths"], "token length histogram")),
    ]
    if "cooccurrence" in result.figures:
        sections.append(("Multi-label", f"<p>Mean labels per text: {result.labels_per_text['mean']}; "
                         f"share with several: {result.labels_per_text['share_with_several']:.2%}</p>"
                         + h.image(result.figures["labels_per_text"], "labels per text")
                         + h.image(result.figures["cooccurrence"], "label co-occurrence")))
    write_text_atomic(path, h.page(f"fineclass explore: {source}", sections))
    return path
