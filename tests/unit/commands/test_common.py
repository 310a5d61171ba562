"""The shared command helpers: tables printed uncut."""



def test_a_wide_table_is_printed_uncut_when_the_output_is_not_a_terminal(capsys):
    from fineclass.commands.common import print_uncut

    name = "a-very-long-candidate-name/that-must-not-be-cut-" + "x" * 60
    print_uncut("leaderboard", ["candidate", "accuracy (mean ± std)"], [[name, "0.5480 ± 0.0165"]])
    out = capsys.readouterr().out
    assert name in out and "0.5480 ± 0.0165" in out


def test_version_prints_the_package_version_and_exits_0():
    from fineclass import __version__
    from tests.conftest import run_cli

    result = run_cli("--version")
    assert result.exit_code == 0
    assert result.stdout == f"fineclass {__version__}\n"
