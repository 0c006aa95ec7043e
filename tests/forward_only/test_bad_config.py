"""Bad forward-only configurations raise ValueError naming the option: population of 1, z of
dimension 0, random-feature attention with no features, more shots than a class has, odd
SPSA population, unknown optimizer/attention; and the command line reports them as one line
with exit code 2 before loading anything."""
import pytest

from fsskernels.finetune.data import TextDataset
from fsskernels.finetune.forward_only.config import ForwardOnlyConfig
from fsskernels.finetune.forward_only.data import few_shot
from fsskernels.nn.rfa_attention import check_features, rfa_weights


@pytest.mark.parametrize("kw, name", [
    (dict(population=1), "population"), (dict(z_dim=0), "z-dim"), (dict(rfa_features=0), "rfa-features"),
    (dict(prompt_len=0), "prompt-len"), (dict(shots=0), "shots"), (dict(optimizer="adam"), "optimizer-fo"),
    (dict(attention="linear"), "attention"), (dict(optimizer="spsa", population=5), "population"),
    (dict(generations=0), "generations"), (dict(sigma0=0.0), "sigma0"), (dict(population=True), "population"),
])
def test_config_errors_name_the_option(kw, name):
    with pytest.raises(ValueError, match=name):
        ForwardOnlyConfig(**kw).check()


def test_rfa_without_features():
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="rfa-features"):
            check_features(bad)
    with pytest.raises(ValueError, match="rfa-features"):
        rfa_weights(8, 0, 1)


def _ds():
    return TextDataset([f"t{i}" for i in range(20)], [0] * 15 + [1] * 5, ["neg", "pos"], "test")


def test_few_shot_is_deterministic_and_balanced():
    tr, ev = few_shot(_ds(), 3, 4, seed=0)
    tr2, ev2 = few_shot(_ds(), 3, 4, seed=0)
    assert tr.texts == tr2.texts and ev.texts == ev2.texts
    assert sorted(tr.labels) == [0, 0, 0, 1, 1, 1] and len(ev) == 4
    assert not set(tr.texts) & set(ev.texts)


def test_more_shots_than_available():
    with pytest.raises(ValueError, match="shots"):
        few_shot(_ds(), 6, 0, seed=0)       # class "pos" has 5
    with pytest.raises(ValueError, match="eval-size"):
        few_shot(_ds(), 1, 20, seed=0)


@pytest.mark.parametrize("argv, name", [
    (["--population", "1"], "population"), (["--z-dim", "0"], "z-dim"),
    (["--attention", "rfa", "--rfa-features", "0"], "rfa-features"),
])
def test_cli_reports_bad_config(argv, name, capsys):
    from fsskernels.finetune.cli import main

    assert main(["--method", "forward-only", "--quiet", *argv]) == 2
    err = capsys.readouterr().err
    assert "error" in err and name in err and len(err.strip().splitlines()) == 1


def test_optimizers_minimise_a_quadratic():
    """CMA-ES and SPSA through the ask/tell interface the loop uses (plaintext, fixed seeds)."""
    import numpy as np

    from fsskernels.finetune.forward_only.optimizers import CMAES, SPSA

    target = np.linspace(-1, 1, 6)

    def loss(Z):
        return ((Z - target) ** 2).sum(1)

    for opt in (CMAES(6, 8, 0.5, seed=1), SPSA(6, 8, lr=0.1, eps=0.1, seed=1)):
        start = float(loss(opt.best()[None])[0])
        for _ in range(40):
            Z = opt.ask()
            opt.tell(loss(Z))
        assert float(loss(opt.best()[None])[0]) < 0.2 * start
        with pytest.raises(ValueError, match="tell"):
            opt.tell([0.0])


def test_rfa_needs_the_forward_only_method(capsys):
    from fsskernels.finetune.cli import main

    assert main(["--attention", "rfa", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "attention" in err and "forward-only" in err
    assert main(["--method", "forward-only", "--role", "client", "--quiet"]) == 2
    assert "role" in capsys.readouterr().err
