"""Labeled-text files in the layouts of public datasets that new users bring, built small from the toy data.

Each layout mirrors a real dataset's shape (named in its docstring): its delimiter, quoting, header, encoding,
label layout and file names. `LAYOUTS` maps a name to (builder, expected reading).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from tests.conftest import CLASS_WORDS, make_multilabel_texts, make_texts

NAMES = list(CLASS_WORDS)  # joy, sadness, anger


@dataclass(frozen=True)
class Expected:
    multi_label: bool
    labels: tuple[str, ...]
    data: str = ""
    """The path given to train, relative to the layout's directory (the file, or a directory of split files)."""
    predict_input: str = ""
    """A file of the layout that predict --input reads (defaults to `data`)."""


def toy(n: int = 120) -> pd.DataFrame:
    return make_texts(n)


def wide_frame(n: int = 120) -> pd.DataFrame:
    multi = make_multilabel_texts(n)
    frame = pd.DataFrame({"comment": multi["text"]})
    for i, name in enumerate(NAMES):
        frame[name] = [int(str(i) in labels.split(",")) for labels in multi["label"]]
    frame.loc[5, NAMES] = 0  # a row with no label: a real example, never skipped
    return frame


def spam(d: Path) -> None:
    """A `message` text column and a `genre` label, read with pandas 3's str dtype (SMS spam, news headlines)."""
    frame = toy()
    pd.DataFrame({"id": range(len(frame)), "message": frame["text"], "genre": frame["label_name"]}).to_csv(d / "spam.csv", index=False)


def wide(d: Path) -> None:
    """One 0/1 column per label (Jigsaw toxic comments, SemEval E-c)."""
    wide_frame().to_csv(d / "wide.csv", index=False)


def soft(d: Path) -> None:
    """The wide layout with annotator-agreement fractions (0.0, 0.33, 0.83, 1.0)."""
    rng = random.Random(0)
    frame = wide_frame()
    for name in NAMES:
        frame[name] = [rng.choice([0.67, 0.83, 1.0]) if v else rng.choice([0.0, 0.17, 0.33]) for v in frame[name]]
    frame.to_csv(d / "soft.csv", index=False)


def semicolons(d: Path) -> None:
    """A `;`-separated .csv whose texts hold commas (European Excel exports)."""
    frame = toy()
    frame.assign(text=frame["text"].str.replace(" ", ", ", n=1))[["text", "label_name"]].to_csv(d / "semi.csv", sep=";", index=False)


def single_quotes(d: Path) -> None:
    """Fields quoted with ' instead of "."""
    frame = toy()
    lines = ["text,label"] + [f"'{t.replace(' ', ', ', 1)}',{n}" for t, n in zip(frame["text"], frame["label_name"])]
    (d / "squote.csv").write_text("\n".join(lines) + "\n")


def tab_txt(d: Path) -> None:
    """A tab-separated file named .txt (SemEval, many academic releases)."""
    toy()[["text", "label_name"]].to_csv(d / "tabs.txt", sep="\t", index=False)


def headerless(d: Path) -> None:
    """AG News as distributed: no header, `class,title,description`, ids 1..N, and classes.txt with N names."""
    frame = toy()
    (d / "ag_news").mkdir()
    rows = pd.DataFrame({"c": frame["label"] + 1, "t": ["title " + t.split()[0] for t in frame["text"]], "d": frame["text"]})
    rows.to_csv(d / "ag_news" / "train.csv", index=False, header=False)
    (d / "ag_news" / "classes.txt").write_text("\n".join(NAMES) + "\n")


def title_description(d: Path) -> None:
    """Text in two columns, a title and a description (news and product datasets)."""
    frame = toy()
    pd.DataFrame({"title": "news: " + frame["text"].str.split().str[:4].str.join(" "), "description": frame["text"],
                  "label": frame["label_name"]}).to_csv(d / "news.csv", index=False)


def latin1(d: Path) -> None:
    """A Windows-1252 / Latin-1 file (older Kaggle CSVs)."""
    frame = toy()
    text = "text,label\n" + "".join(f"café {t},{n}\n" for t, n in zip(frame["text"], frame["label_name"]))
    (d / "latin.csv").write_bytes(text.encode("latin-1"))


def json_splits(d: Path) -> None:
    """One JSON object holding the splits as [text, label] pairs, with extra keys (CLINC150's data_full.json)."""
    frame = toy()
    pairs = [[t, n] for t, n in zip(frame["text"], frame["label_name"])]
    (d / "data_full.json").write_text(json.dumps({"train": pairs[:80], "val": pairs[80:100], "test": pairs[100:],
                                                  "oos_val": [["what is the weather", "oos"]]}))


def json_keyed(d: Path) -> None:
    """Records under one key: {"data": [...]}."""
    frame = toy()
    records = [{"utterance": t, "intent": n} for t, n in zip(frame["text"], frame["label_name"])]
    (d / "keyed.json").write_text(json.dumps({"data": records}))


def list_labels(d: Path) -> None:
    """A list-valued label column with an unlisted name, written by pandas as Python lists ("['a', 'b']")."""
    frame = toy()
    labels = [[n] if i % 3 else [n, "greet"] for i, n in enumerate(frame["label_name"])]
    pd.DataFrame({"utt": frame["text"], "acts": labels}).to_csv(d / "acts.csv", index=False)


def fasttext(d: Path) -> None:
    """fastText lines, `__label__a __label__b text` (the cooking Stack Exchange tags)."""
    frame = toy()
    lines = [" ".join(f"__label__{x}" for x in ([n] if i % 4 else [n, "misc"])) + " " + t
             for i, (t, n) in enumerate(zip(frame["text"], frame["label_name"]))]
    (d / "cooking.train.txt").write_text("\n".join(lines) + "\n")


def split_names(d: Path) -> None:
    """Split files named 2018-E-c-En-{train,dev,test}.txt: tab-separated, wide labels (SemEval 2018 Task 1 E-c)."""
    frame = wide_frame().rename(columns={"comment": "Tweet"})
    (d / "semeval").mkdir()
    for part, rows in (("train", slice(0, 80)), ("dev", slice(80, 100)), ("test", slice(100, 120))):
        split = frame.iloc[rows].assign(ID=[f"2018-En-{i:05d}" for i in range(rows.start, rows.stop)])
        split[["ID", "Tweet", *NAMES]].to_csv(d / "semeval" / f"2018-E-c-En-{part}.txt", sep="\t", index=False)


def text_pairs(d: Path) -> None:
    """Question pairs: question1, question2, is_duplicate (Quora Question Pairs)."""
    frame = toy()
    pd.DataFrame({"id": range(len(frame)), "question1": frame["text"], "question2": frame["text"].sample(frac=1, random_state=1).values,
                  "is_duplicate": [i % 2 for i in range(len(frame))]}).to_csv(d / "quora.csv", index=False)


APOSTROPHE_TWEETS = {4: "'twas the worst night ever, so sad", 5: "hello' world, said she, so angry",
                     13: "'tis the season and i am gloomy", 17: "so annoyed, we're gettin' there, y'all",
                     22: "'cause i am down and nobody's listenin'", 27: "feeling happy, just chillin' and readin'"}
"""Tweets that start with an apostrophe, end a word with one, or hold one that closes nothing."""


def apostrophe_tweets(d: Path) -> None:
    """SemEval 2018 EI tweets: tab-separated, 33 rows, three texts starting with an apostrophe ('twas), no quoting.

    csv.Sniffer read ' as the quote character here, and the reader gave 28 rows: one text ran from 'twas to hello'."""
    frame = make_texts(33)
    texts = [APOSTROPHE_TWEETS.get(i, t) for i, t in enumerate(frame["text"])]
    rows = [f"2018-En-{i:05d}\t{t}\t{n}" for i, (t, n) in enumerate(zip(texts, frame["label_name"]))]
    (d / "tweets.tsv").write_text("ID\tTweet\tAffect Dimension\n" + "\n".join(rows) + "\n")


def quoted_semicolons(d: Path) -> None:
    """A ;-separated news file whose every text is quoted with ' and holds a ; (and some a "quoted" phrase).

    csv.Sniffer guessed '"' from the phrases, and the file was refused: "line 1 has a different number of fields"."""
    frame = make_texts(60)
    said = ' - the minister said "no comment" today'
    lines = ["'" + t.replace(" ", "; ", 1) + (said if i % 7 == 0 else "") + "';" + n
             for i, (t, n) in enumerate(zip(frame["text"], frame["label_name"]))]
    (d / "news.csv").write_text("text;label\n" + "\n".join(lines) + "\n")


LAYOUTS = {
    "pandas-str-dtype": (spam, Expected(False, ("anger", "joy", "sadness"), "spam.csv")),
    "wide-0-1": (wide, Expected(True, tuple(NAMES), "wide.csv")),
    "soft-labels": (soft, Expected(True, tuple(NAMES), "soft.csv")),
    "semicolon-csv": (semicolons, Expected(False, ("anger", "joy", "sadness"), "semi.csv")),
    "single-quotes": (single_quotes, Expected(False, ("anger", "joy", "sadness"), "squote.csv")),
    "tab-txt": (tab_txt, Expected(False, ("anger", "joy", "sadness"), "tabs.txt")),
    "headerless-1-based": (headerless, Expected(False, tuple(NAMES), "ag_news", "ag_news/train.csv")),
    "title-description": (title_description, Expected(False, ("anger", "joy", "sadness"), "news.csv")),
    "latin-1": (latin1, Expected(False, ("anger", "joy", "sadness"), "latin.csv")),
    "json-splits-pairs": (json_splits, Expected(False, ("anger", "joy", "sadness"), "data_full.json")),
    "json-keyed-records": (json_keyed, Expected(False, ("anger", "joy", "sadness"), "keyed.json")),
    "list-labels": (list_labels, Expected(True, ("anger", "greet", "joy", "sadness"), "acts.csv")),
    "fasttext": (fasttext, Expected(True, ("anger", "joy", "misc", "sadness"), "cooking.train.txt")),
    "split-file-names": (split_names, Expected(True, tuple(NAMES), "semeval", "semeval/2018-E-c-En-test.txt")),
    "text-pairs": (text_pairs, Expected(False, ("0", "1"), "quora.csv")),
    "apostrophe-tweets": (apostrophe_tweets, Expected(False, ("anger", "joy", "sadness"), "tweets.tsv")),
    "quoted-semicolons": (quoted_semicolons, Expected(False, ("anger", "joy", "sadness"), "news.csv")),
}


def build(name: str, directory: Path) -> Expected:
    builder, expected = LAYOUTS[name]
    builder(directory)
    return expected
