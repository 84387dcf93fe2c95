// cmd_eval.c: `rlc eval --model DIR --data FILE.jsonl [...]`: held-out
// accuracy of a model (learner/eval.h): greedy pass@1, or with sampling the
// mean accuracy and the unbiased pass@k; mean completion length, tokens/s.
#include <stdio.h>   // printf, fprintf, fopen
#include <string.h>  // strcmp

#include "actor/model.h"      // actor_model_load
#include "actor/tokenizer.h"  // tok_load
#include "args.h"
#include "commands.h"
#include "core/core.h"        // rlc_last_error
#include "kernels/kernels.h"  // kernels_set_threads
#include "learner/eval.h"     // lrn_eval
#include "learner/eval_compare.h"  // lrn_eval_compare, lrn_eval_read_accuracy

typedef struct {
    const char *model, *tokenizer, *data, *prompt_key, *answer_key, *template_name, *out, *against;
    int n, threads, show, json;
    lrn_eval_options eval;
} eval_cli;

static void usage(void) {
    printf("usage: rlc eval --model DIR --data FILE.jsonl [options]\n\n"
           "Generates a completion for each question (continuous batching over KV-cache slots),\n"
           "grades it against the reference answer with rlc.math (\"#### N\", \\boxed{}, \"the answer\n"
           "is\", else the last number) and prints pass@1; with --temperature > 0 and --k K, the mean\n"
           "sampled accuracy and the unbiased pass@k from --samples completions per question.\n\n"
           "  --model DIR           Hugging Face model folder (or an rlc checkpoint step-N)\n"
           "  --tokenizer PATH      default: the model folder\n"
           "  --data FILE.jsonl     the questions and answers\n"
           "  --n N                 evaluate the first N records (default 500; 0: all)\n"
           "  --prompt-key KEY      the question field (default question)\n"
           "  --answer-key KEY      the reference field: a number, or text ending in \"#### N\" (default answer)\n"
           "  --template NAME       how the question becomes the prompt: plain (default: \"user: Q\\n\n"
           "                        assistant: \", as SFT and GRPO render it), chatml, qwen2.5, qwen3,\n"
           "                        llama3, or raw (the field as is)\n"
           "  --batch B             sequences decoded together (default 32)\n"
           "  --max-new-tokens N    completion limit (default 96)\n"
           "  --temperature T       0 is greedy (default 0)\n"
           "  --top-p P, --top-k K  sampling filters (default off)\n"
           "  --k K                 report pass@k (needs --temperature > 0; default 1)\n"
           "  --samples N           completions per question (default: k)\n"
           "  --seed S              sampling seed (default 1)\n"
           "  --threads N           CPU threads (default: all cores)\n"
           "  --out FILE.jsonl      write every completion {example, sample, completion, correct, tokens}\n"
           "  --against FILE.jsonl  compare with an earlier --out file of the same examples (say, the\n"
           "                        model before training): examples better and worse, the change\n"
           "                        with its paired standard error, and the exact sign test\n"
           "  --show N              print the first N completions to stderr\n"
           "  --json                print the result as one JSON line\n");
}

static int parse(int argc, char **argv, eval_cli *o) {
    memset(o, 0, sizeof *o);
    lrn_eval_options_default(&o->eval);
    o->n = 500;
    o->prompt_key = "question";
    o->answer_key = "answer";
    o->template_name = "plain";
    int samples = 0;
    for (int i = 1; i < argc; i++) {
        int bad = 0;
        long long v = 0;
        double f = 0;
        if (arg_flag(argv, &i, "--help") || arg_flag(argv, &i, "-h")) {
            usage();
            return 1;
        } else if (arg_str(argc, argv, &i, "--model", &o->model, &bad)) {
        } else if (arg_str(argc, argv, &i, "--tokenizer", &o->tokenizer, &bad)) {
        } else if (arg_str(argc, argv, &i, "--data", &o->data, &bad)) {
        } else if (arg_str(argc, argv, &i, "--prompt-key", &o->prompt_key, &bad)) {
        } else if (arg_str(argc, argv, &i, "--answer-key", &o->answer_key, &bad)) {
        } else if (arg_str(argc, argv, &i, "--template", &o->template_name, &bad)) {
        } else if (arg_str(argc, argv, &i, "--out", &o->out, &bad)) {
        } else if (arg_str(argc, argv, &i, "--against", &o->against, &bad)) {
        } else if (arg_flag(argv, &i, "--json")) {
            o->json = 1;
        } else if (arg_int(argc, argv, &i, "--n", &v, &bad)) {
            o->n = (int)v, bad |= v < 0 || v > 100000000;
        } else if (arg_int(argc, argv, &i, "--batch", &v, &bad)) {
            o->eval.batch = (int)v, bad |= v < 1 || v > 65536;
        } else if (arg_int(argc, argv, &i, "--max-new-tokens", &v, &bad)) {
            o->eval.max_new_tokens = (int)v, bad |= v < 1 || v > 1 << 20;
        } else if (arg_float(argc, argv, &i, "--temperature", &f, &bad)) {
            o->eval.temperature = (float)f, bad |= !(f >= 0);
        } else if (arg_float(argc, argv, &i, "--top-p", &f, &bad)) {
            o->eval.top_p = (float)f, bad |= !(f > 0 && f <= 1);
        } else if (arg_int(argc, argv, &i, "--top-k", &v, &bad)) {
            o->eval.top_k = (int)v, bad |= v < 0;
        } else if (arg_int(argc, argv, &i, "--k", &v, &bad)) {
            o->eval.k = (int)v, bad |= v < 1 || v > 65536;
        } else if (arg_int(argc, argv, &i, "--samples", &v, &bad)) {
            samples = (int)v, bad |= v < 1 || v > 65536;
        } else if (arg_int(argc, argv, &i, "--seed", &v, &bad)) {
            o->eval.seed = (uint64_t)v;
        } else if (arg_int(argc, argv, &i, "--threads", &v, &bad)) {
            o->threads = (int)v, bad |= v < 1;
        } else if (arg_int(argc, argv, &i, "--show", &v, &bad)) {
            o->show = (int)v, bad |= v < 0;
        } else {
            fprintf(stderr, "rlc eval: unexpected argument '%s' (rlc eval --help)\n", argv[i]);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "rlc eval: bad or missing value for %s\n", argv[i]);
            return 2;
        }
    }
    if (!o->model || !o->data) {
        fprintf(stderr, "rlc eval: --model DIR and --data FILE.jsonl are required (rlc eval --help)\n");
        return 2;
    }
    o->eval.n_samples = samples ? samples : o->eval.k;
    if (o->eval.temperature == 0 && (o->eval.k > 1 || o->eval.n_samples > 1)) {
        fprintf(stderr, "rlc eval: --k and --samples above 1 need --temperature > 0 (greedy decoding gives one answer)\n");
        return 2;
    }
    if (o->eval.k > o->eval.n_samples) {
        fprintf(stderr, "rlc eval: --k %d needs at least as many --samples (%d)\n", o->eval.k, o->eval.n_samples);
        return 2;
    }
    if (o->eval.batch < o->eval.n_samples) o->eval.batch = o->eval.n_samples;
    // Chat-rendered prompts carry their own special tokens; raw ones get the tokenizer's.
    o->eval.add_special = strcmp(o->template_name, "raw") == 0;
    return 0;
}

typedef struct {
    FILE *out;
    int show, shown;
    double *correct;  // (examples) correct samples of each, for --against; NULL without it
    int *count;       // (examples) samples of each
    double *base;     // (examples) the --against file's accuracy of each
} sample_sink;

static void on_sample(void *ud, int example, int sample, const char *completion, int n_tokens, int correct,
                      actor_finish finish) {
    sample_sink *k = ud;
    if (k->correct) k->correct[example] += correct, k->count[example]++;
    if (k->shown < k->show) {
        k->shown++;
        fprintf(stderr, "--- example %d sample %d: %s%s\n%s\n", example, sample, correct ? "correct" : "wrong",
                finish == ACTOR_FINISH_LENGTH ? " (length)" : "", completion);
    }
    if (!k->out) return;
    fprintf(k->out, "{\"example\": %d, \"sample\": %d, \"correct\": %s, \"tokens\": %d, \"finish\": \"%s\", "
                    "\"completion\": ",
            example, sample, correct ? "true" : "false", n_tokens, finish == ACTOR_FINISH_LENGTH ? "length" : "stop");
    rlc_json_put_string(k->out, completion);
    fputs("}\n", k->out);
}

static void print_result(const eval_cli *o, const lrn_eval_result *r, const lrn_eval_paired *cmp) {
    const lrn_eval_options *e = &o->eval;
    if (o->json) {
        printf("{\"examples\": %d, \"samples\": %d, \"temperature\": %g, \"pass@1\": %.6f", r->n_examples,
               r->n_samples, (double)e->temperature, r->pass1);
        if (r->k > 1) printf(", \"pass@%d\": %.6f", r->k, r->pass_k);
        printf(", \"pass@n\": %.6f, \"mean_len\": %.3f, \"truncated\": %ld, \"tokens_per_s\": %.1f, \"seconds\": %.3f",
               r->pass_n, r->mean_len, r->truncated, r->tokens_per_s, r->seconds);
        if (cmp)
            printf(", \"against\": {\"pass@1\": %.6f, \"diff\": %.6f, \"se\": %.6f, \"better\": %d, \"worse\": %d, "
                   "\"p_sign\": %.6g}",
                   cmp->mean_a, cmp->diff, cmp->se, cmp->better, cmp->worse, cmp->p_sign);
        printf("}\n");
        return;
    }
    printf("rlc eval: %s on %d examples of %s (%s, %d sample%s each, max %d new tokens)\n", o->model, r->n_examples,
           o->data, e->temperature > 0 ? "sampled" : "greedy", r->n_samples, r->n_samples > 1 ? "s" : "",
           e->max_new_tokens);
    if (e->temperature > 0) {
        printf("pass@1 = %.4f (mean accuracy at temperature %g)\n", r->pass1, (double)e->temperature);
        if (r->k > 1) printf("pass@%d = %.4f (unbiased, from %d samples)\n", r->k, r->pass_k, r->n_samples);
    } else {
        printf("pass@1 = %.4f (greedy, %.0f/%d)\n", r->pass1, r->pass1 * r->n_examples, r->n_examples);
    }
    printf("mean completion length %.1f tokens, %ld truncated; %.0f tokens/s (%.2f s)\n", r->mean_len, r->truncated,
           r->tokens_per_s, r->seconds);
    if (cmp)
        printf("against %s: pass@1 %.4f -> %.4f (%+.1f points, paired standard error %.1f); %d examples better, "
               "%d worse (sign test p = %.2g)\n",
               o->against, cmp->mean_a, cmp->mean_b, 100 * cmp->diff, 100 * cmp->se, cmp->better, cmp->worse,
               cmp->p_sign);
}

int cmd_eval(int argc, char **argv) {
    eval_cli o;
    int rc = parse(argc, argv, &o);
    if (rc) return rc == 1 ? 0 : rc;
    kernels_set_threads(o.threads);
    actor_model *m = NULL;
    tok_tokenizer *tok = NULL;
    lrn_eval_set set = {0};
    sample_sink sink = {.show = o.show};
    lrn_eval_result r;
    rlc_status s = actor_model_load(o.model, &m);
    if (s == RLC_OK) s = tok_load(o.tokenizer ? o.tokenizer : o.model, &tok);
    if (s == RLC_OK) s = lrn_eval_set_load(o.data, o.prompt_key, o.answer_key, o.template_name, o.n, &set);
    if (s == RLC_OK && o.against) {
        sink.correct = rlc_calloc((size_t)set.n, sizeof *sink.correct);
        sink.count = rlc_calloc((size_t)set.n, sizeof *sink.count);
        sink.base = rlc_calloc((size_t)set.n, sizeof *sink.base);
        s = sink.correct && sink.count && sink.base ? RLC_OK : rlc_errorf(RLC_ERR_NOMEM, "eval: out of memory");
        if (s == RLC_OK) s = lrn_eval_read_accuracy(o.against, set.n, sink.base);  // before the work (and --out)
    }
    if (s == RLC_OK && o.out && !(sink.out = fopen(o.out, "wb"))) s = rlc_errorf(RLC_ERR_IO, "cannot write %s", o.out);
    o.eval.on_sample = on_sample;
    o.eval.ud = &sink;
    if (s == RLC_OK) s = lrn_eval(m, tok, set.ex, set.n, &o.eval, &r);
    if (sink.out && fclose(sink.out) != 0 && s == RLC_OK) s = rlc_errorf(RLC_ERR_IO, "write failed: %s", o.out);
    lrn_eval_paired cmp;
    if (s == RLC_OK && o.against) {
        for (int i = 0; i < set.n; i++) sink.correct[i] /= sink.count[i] ? sink.count[i] : 1;
        s = lrn_eval_compare(sink.base, sink.correct, set.n, &cmp);
    }
    if (s == RLC_OK) print_result(&o, &r, o.against ? &cmp : NULL);
    else fprintf(stderr, "rlc eval: %s\n", rlc_last_error());
    rlc_free(sink.correct);
    rlc_free(sink.count);
    rlc_free(sink.base);
    lrn_eval_set_free(&set);
    tok_free(tok);
    actor_model_free(m);
    return s == RLC_OK ? 0 : 1;
}
