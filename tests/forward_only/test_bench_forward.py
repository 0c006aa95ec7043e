"""`fsskernels bench --only forward`: both cases are registered in the forward section and the
report renders their tables from a record (a synthetic one: the measurement itself is a bench)."""
from fsskernels.bench import registry
from fsskernels.bench.cases_forward import render


def test_cases_registered_and_rendered():
    registry.load_builtin()
    names = {c.name for c in registry.cases("forward")}
    assert names == {"generation_vs_gradient_step", "attention_softmax_vs_rfa"}
    step = {"seconds": 2.0, "bytes": 1000, "rounds": 10}
    rep = {"sections": {"forward": {"cases": [
        {"case": "generation_vs_gradient_step", "status": "ok", "params": {"layers": 1, "population": 4, "batch": 4,
                                                                            "seq": 16},
         "forward_only_step": step, "gradient_step": dict(step, seconds=1.0),
         "ratio_gradient_over_forward_only": {"seconds": 0.5, "bytes": 1.0, "rounds": 1.0}},
        {"case": "attention_softmax_vs_rfa", "status": "ok", "rows": [
            {"seq": 64, "attention": "rfa", "features": 32, "seconds": 1.5, "bytes": 2000, "rounds": 43,
             "mean_err_vs_softmax": 0.99, "max_err_vs_softmax": 20.9}]},
        {"case": "attention_softmax_vs_rfa", "status": "skipped"}]}}}
    md = render(rep)
    assert "gradient / forward-only" in md and "0.50x" in md and "rfa (m = 32)" in md and "| 43" in md
    assert render({"sections": {}}) == ""
