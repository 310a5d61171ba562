"""`fineclass evaluate` and `fineclass tune-thresholds`: score a trained model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from fineclass.commands.common import (
    DEVICE_HELP,
    ColumnsOption,
    DelimiterOption,
    EncodingOption,
    HeaderOption,
    LabelColumnsOption,
    QuotecharOption,
    TextPairOption,
    app,
    check_device,
    console,
    print_metrics_table,
    read_options,
    user_errors,
)
from fineclass.errors import FineclassError


@app.command()
@user_errors
def evaluate(
    model_dir: Annotated[str, typer.Argument(help="A fineclass run directory or model directory.")],
    data: Annotated[Optional[str], typer.Argument(help="Labeled data [default: the run's own saved split].")] = None,
    split: Annotated[str, typer.Option(help="Which split to evaluate.")] = "test",
    text_column: Annotated[Optional[str], typer.Option(help="Text column(s) of DATA [default: the run's, else detected].")] = None,
    text_pair_column: TextPairOption = None,
    label_column: Annotated[Optional[str], typer.Option(help="Label column of DATA [default: the run's, else detected].")] = None,
    label_columns: LabelColumnsOption = None,
    delimiter: DelimiterOption = None,
    quotechar: QuotecharOption = None,
    encoding: EncodingOption = None,
    header: HeaderOption = None,
    columns: ColumnsOption = None,
    label_names: Annotated[Optional[str], typer.Option(help="Label names file for integer labels in DATA.")] = None,
    threshold: Annotated[Optional[float], typer.Option(help="Multi-label threshold [default: the model's].")] = None,
    batch_size: Annotated[int, typer.Option(help="Texts per forward pass.")] = 128,
    device: Annotated[str, typer.Option(help=DEVICE_HELP)] = "auto",
    output: Annotated[Optional[Path], typer.Option(help="Also write the metrics to this JSON file.")] = None,
    report_dir: Annotated[Optional[Path], typer.Option(help="Where report.html and plots/ go [default: RUN/evaluation-SPLIT or ./evaluation-SPLIT].")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an earlier report in --report-dir.")] = False,
) -> None:
    """Compute metrics for a model on its run's test split or on any labeled data, and write report.html."""
    from fineclass.evaluation.evaluate import evaluate_frame, load_eval_frame
    from fineclass.inference.predictor import Predictor
    from fineclass.rundir import REPORT_INCOMPLETE, output_errors, resolve_model_dir, write_json_atomic

    if threshold is not None and not 0 < threshold < 1:
        raise FineclassError(f"--threshold must be between 0 and 1, got {threshold}")
    device = check_device(device, model_dir)
    from fineclass.evaluation.report import write_report
    from fineclass.rundir import run_dir_of

    resolved = resolve_model_dir(model_dir)
    run_dir = run_dir_of(resolved)
    name = f"evaluation-{split}" if data is None else f"evaluation-{Path(data.rstrip('/')).stem}-{split}"
    out = report_dir or (run_dir or Path(".")) / name
    if (out / "report.html").exists() and not overwrite:
        raise FineclassError(f"{out / 'report.html'} already exists; pass --overwrite to replace it, or choose another --report-dir")
    frame = load_eval_frame(resolved, data, split, text_column, label_column, label_names,
                            options=read_options(delimiter, quotechar, encoding, header, columns),
                            label_columns=label_columns, text_pair_column=text_pair_column,
                            announce=lambda line: console.print(line, soft_wrap=True, highlight=False, markup=False))
    predictor = Predictor.from_dir(resolved, batch_size=batch_size, device=device)
    result = evaluate_frame(predictor, frame, split, threshold)
    print_metrics_table(result.metrics, f"{split} ({result.rows} rows)")
    run_metrics = json.loads((run_dir / "metrics.json").read_text()) if run_dir and (run_dir / "metrics.json").is_file() else {}
    run_metrics.pop("baseline", None)  # it was measured on the run's own test split, not necessarily this data
    thresholds = predictor.thresholds if threshold is None else threshold
    with output_errors(out, "--report-dir", REPORT_INCOMPLETE):
        out.mkdir(parents=True, exist_ok=True)
        report = write_report(out, predictor.label_space, result, list(frame["text"]), run_metrics, thresholds,
                              f"fineclass report: {model_dir} on {data or 'the run'} ({split})")
    console.print(f"report: {report}")
    if output:
        with output_errors(output.parent, "--output",
                           f"{output} was not written: free some space or choose another --output, then run again"):
            write_json_atomic(output, {"split": split, "rows": result.rows, **result.metrics})
        console.print(f"metrics: {output}")


@app.command("tune-thresholds")
@user_errors
def tune_thresholds_command(
    run_dir: Annotated[Path, typer.Argument(help="A multi-label fineclass run directory.")],
    strategy: Annotated[str, typer.Option("--thresholds", help="per-label, global or fixed:T.")] = "per-label",
    min_positives: Annotated[int, typer.Option(help="Validation positives a label needs for its own threshold.")] = 10,
) -> None:
    """Re-tune a multi-label model's thresholds on its run's validation split, and save them."""
    from fineclass.evaluation.evaluate import evaluate_frame, load_eval_frame
    from fineclass.config import parse_strategy
    from fineclass.evaluation.thresholds import tune_thresholds, write_thresholds
    from fineclass.inference.predictor import Predictor
    from fineclass.rundir import resolve_model_dir

    kind, fixed = parse_strategy(strategy)
    model_dir = resolve_model_dir(run_dir)
    predictor = Predictor.from_dir(model_dir)
    if not predictor.label_space.multi_label:
        raise FineclassError(f"{run_dir} holds a single-label model; thresholds apply to multi-label models only")
    result = evaluate_frame(predictor, load_eval_frame(model_dir, None, "validation"), "validation", threshold=0.5)
    tuned = tune_thresholds(result.y_true, result.probs, kind, min_positives, fixed or 0.5)
    write_thresholds(model_dir, predictor.label_space, tuned, strategy, min_positives)
    console.print(f"wrote {model_dir / 'thresholds.json'}: " + ", ".join(
        f"{n} {t:.2f}" for n, t in zip(predictor.label_space.names, tuned)))

