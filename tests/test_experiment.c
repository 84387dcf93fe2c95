// test_experiment.c: experiment files: defaults, a file's values, --set
// overrides, which keys were set, the algorithm presets (only on unset
// keys), unknown keys (with the nearest valid keys named), wrong types
// (exact messages), bad files, `base` files, and docs/config.md being the output of
// `rlc config --doc` (regenerate it with: rlc config --doc > docs/config.md).
#include <stdio.h>   // fopen
#include <string.h>  // strcmp
#include <stdlib.h>  // mkdtemp
#include <unistd.h>  // getpid, rmdir

#include "core/core.h"
#include "reward/reward.h"
#include "test.h"

static char tmp[256];

static const char *write_exp(const char *text) {
    snprintf(tmp, sizeof tmp, "/tmp/rlc_test_exp_%d.lua", (int)getpid());
    FILE *f = fopen(tmp, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    return tmp;
}

// Loads text (or the defaults when NULL) and checks the error message.
static void expect_error(const char *text, const char *const *ov, int n_ov, const char *want) {
    rlc_exp *e = NULL;
    rlc_status st = text ? rlc_exp_load(write_exp(text), ov, n_ov, &e) : rlc_exp_defaults(ov, n_ov, &e);
    CHECK_MSG(st == RLC_ERR_CONFIG, "expected RLC_ERR_CONFIG, got %s", rlc_status_name(st));
    char msg[512];
    snprintf(msg, sizeof msg, "%s", rlc_last_error());
    // file messages start with the file's base name
    const char *m = msg;
    char base[300];
    snprintf(base, sizeof base, "%s: ", strrchr(tmp, '/') + 1);
    char expect[600];
    if (text && strncmp(want, "exp: ", 5) == 0) snprintf(expect, sizeof expect, "%s%s", base, want + 5);
    else snprintf(expect, sizeof expect, "%s", want);
    CHECK_MSG(strcmp(m, expect) == 0, "message\n  got:  %s\n  want: %s", m, expect);
    rlc_exp_free(e);
}

// algorithm.name = dapo / drgrpo / gspo fill the keys left unset, in the
// experiment itself (what `rlc config` prints and the learner loop reads).
static void test_presets(void) {
    rlc_exp *e = NULL;
    double d;
    long long i;
    int b;
    const char *s;
    const char *ov[] = {"algorithm.name=dapo", "sampling.max_new_tokens=100", "algorithm.clip_high=0.3"};
    CHECK_OK(rlc_exp_defaults(ov, 3, &e));
    if (e) {
        CHECK(rlc_exp_get_number(e, "algorithm.clip_high", &d) == RLC_OK && d == 0.3);  // set: kept
        CHECK(rlc_exp_get_number(e, "algorithm.clip_low", &d) == RLC_OK && d == 0.2);
        CHECK(rlc_exp_get_bool(e, "algorithm.dynamic_sampling", &b) == RLC_OK && b == 1);
        CHECK(rlc_exp_get_int(e, "algorithm.overlong_buffer", &i) == RLC_OK && i == 25);  // 100 / 4
        CHECK(rlc_exp_get_string(e, "algorithm.loss_agg", &s) == RLC_OK && strcmp(s, "token-mean") == 0);
        CHECK(!rlc_exp_is_set(e, "algorithm.overlong_buffer") && rlc_exp_is_set(e, "algorithm.clip_high"));
    }
    rlc_exp_free(e);
    const char *ov2[] = {"algorithm.name=drgrpo", "sampling.max_new_tokens=64"};
    CHECK_OK(rlc_exp_defaults(ov2, 2, &e));
    if (e) {
        CHECK(rlc_exp_get_bool(e, "algorithm.norm_adv_by_std", &b) == RLC_OK && b == 0);
        CHECK(rlc_exp_get_number(e, "algorithm.loss_agg_norm", &d) == RLC_OK && d == 64);
        CHECK(rlc_exp_get_string(e, "algorithm.loss_agg", &s) == RLC_OK && strcmp(s, "seq-mean-token-sum-norm") == 0);
    }
    rlc_exp_free(e);
    const char *file = "return { algorithm = { name = 'gspo', clip_low = 0.2 } }\n";  // 0.2 is also the default
    CHECK_OK(rlc_exp_load(write_exp(file), NULL, 0, &e));
    if (e) {
        CHECK(rlc_exp_get_number(e, "algorithm.clip_low", &d) == RLC_OK && d == 0.2);
        CHECK(rlc_exp_get_number(e, "algorithm.clip_high", &d) == RLC_OK && d == 4e-4);
        CHECK(rlc_exp_get_string(e, "algorithm.policy_loss", &s) == RLC_OK && strcmp(s, "gspo") == 0);
    }
    rlc_exp_free(e);
    remove(tmp);
}

int main(void) {
    rlc_log_set_level(RLC_LOG_ERROR);
    test_presets();
    rlc_exp *e = NULL;
    double d;
    long long i;
    int b;
    const char *s;
    const json_t *j;

    // defaults (GRPO as in verl / TRL, DAPO's clip-higher)
    CHECK_OK(rlc_exp_defaults(NULL, 0, &e));
    CHECK_OK(rlc_exp_get_number(e, "algorithm.lr", &d));
    CHECK(d == 1e-6);
    CHECK_OK(rlc_exp_get_int(e, "algorithm.group_size", &i));
    CHECK(i == 8);
    CHECK_OK(rlc_exp_get_number(e, "algorithm.clip_high", &d));
    CHECK(d == 0.28);
    CHECK_OK(rlc_exp_get_number(e, "algorithm.kl_coef", &d));
    CHECK(d == 0.0);
    CHECK_OK(rlc_exp_get_number(e, "sampling.temperature", &d));
    CHECK(d == 1.0);
    CHECK(rlc_exp_get_int(e, "algorithm.lr", &i) == RLC_ERR_CONFIG);
    CHECK_MSG(strcmp(rlc_last_error(), "experiment: \"algorithm.lr\" is a number, not an integer") == 0, "%s",
              rlc_last_error());
    rlc_exp_free(e);

    // a file, then overrides
    const char *file =
        "local n = 16\n"
        "return {\n"
        "  model = { path = 'models/qwen' },\n"
        "  algorithm = { lr = 2e-6, group_size = n, clip_high = 0.2, ppo_epochs = 1 },\n"
        "  data = { sources = { {name = 'gsm8k', path = 'gsm8k.jsonl', weight = 1} } },\n"
        "  reward = { funcs = { {script = 'scripts/rewards/gsm8k.lua', weight = 1.0} }, threads = 4.0 },\n"
        "}\n";
    const char *ov[] = {"algorithm.lr=3e-6", "data.shuffle=false", "sampling.stop=[\"</answer>\"]",
                        "output.dir=runs/x=1"};
    CHECK_OK(rlc_exp_load(write_exp(file), ov, 4, &e));
    if (e) {
        CHECK_OK(rlc_exp_get_number(e, "algorithm.lr", &d));
        CHECK(d == 3e-6);
        CHECK_OK(rlc_exp_get_int(e, "algorithm.group_size", &i));
        CHECK(i == 16);
        CHECK_OK(rlc_exp_get_int(e, "reward.threads", &i));
        CHECK(i == 4);
        CHECK_OK(rlc_exp_get_bool(e, "data.shuffle", &b));
        CHECK(b == 0);
        CHECK_OK(rlc_exp_get_string(e, "model.path", &s));
        CHECK(strcmp(s, "models/qwen") == 0);
        CHECK_OK(rlc_exp_get_string(e, "output.dir", &s));
        CHECK(strcmp(s, "runs/x=1") == 0);
        CHECK_OK(rlc_exp_get_json(e, "reward.funcs", &j));
        CHECK(json_array_size(j) == 1 &&
              strcmp(json_string_value(json_object_get(json_array_get(j, 0), "script")),
                     "scripts/rewards/gsm8k.lua") == 0);
        CHECK_OK(rlc_exp_get_json(e, "sampling.stop", &j));
        CHECK(json_array_size(j) == 1);
        // set by the file (ppo_epochs even to its default value 1) or by an override;
        // left at the default
        CHECK(rlc_exp_is_set(e, "algorithm.clip_high") && rlc_exp_is_set(e, "algorithm.ppo_epochs") &&
              rlc_exp_is_set(e, "algorithm.lr") && rlc_exp_is_set(e, "data.shuffle") &&
              rlc_exp_is_set(e, "model.path") && rlc_exp_is_set(e, "sampling.stop"));
        CHECK(!rlc_exp_is_set(e, "algorithm.clip_low") && !rlc_exp_is_set(e, "algorithm.name") &&
              !rlc_exp_is_set(e, "algorithm.nope") && !rlc_exp_is_set(e, NULL));
        CHECK_OK(rlc_exp_get_number(e, "algorithm.clip_low", &d));  // untouched default
        CHECK(d == 0.2);
    }
    rlc_exp_free(e);

    // unknown keys name the nearest valid ones
    expect_error("return { algorithm = { clip_hgih = 0.3 } }", NULL, 0,
                 "exp: unknown key \"algorithm.clip_hgih\" (did you mean \"algorithm.clip_high\"?)");
    expect_error("return { algo = { lr = 1 } }", NULL, 0, "exp: unknown key \"algo\" (did you mean \"algorithm\"?)");
    expect_error("return { sampling = { temprature = 0.7 } }", NULL, 0,
                 "exp: unknown key \"sampling.temprature\" (did you mean \"sampling.temperature\"?)");
    expect_error("return { model = { xyzzy = 1 } }", NULL, 0, "exp: unknown key \"model.xyzzy\"");
    const char *bad_ov[] = {"algorithm.lrr=1e-6"};
    expect_error(NULL, bad_ov, 1,
                 "--set algorithm.lrr=1e-6: unknown key \"algorithm.lrr\" (did you mean \"algorithm.lr\" or \"algorithm.lam\"?)");

    // wrong types
    expect_error("return { algorithm = { lr = 'fast' } }", NULL, 0,
                 "exp: \"algorithm.lr\" must be a number (got a string)");
    expect_error("return { algorithm = { group_size = 8.5 } }", NULL, 0,
                 "exp: \"algorithm.group_size\" must be an integer (got a number)");
    expect_error("return { data = { shuffle = 1 } }", NULL, 0, "exp: \"data.shuffle\" must be a boolean (got an integer)");
    expect_error("return { reward = { funcs = 'gsm8k.lua' } }", NULL, 0,
                 "exp: \"reward.funcs\" must be a list (got a string)");
    expect_error("return { algorithm = 3 }", NULL, 0, "exp: section \"algorithm\" must be a table (got an integer)");
    const char *bad_num[] = {"algorithm.lr=abc"};
    expect_error(NULL, bad_num, 1, "--set algorithm.lr=abc: \"algorithm.lr\" must be a number");
    const char *bad_bool[] = {"data.shuffle=yes"};
    expect_error(NULL, bad_bool, 1, "--set data.shuffle=yes: \"data.shuffle\" must be a boolean");
    const char *no_eq[] = {"algorithm.lr"};
    expect_error(NULL, no_eq, 1, "--set algorithm.lr: expected key=value");

    // list items are checked too
    expect_error("return { reward = { funcs = { {script = 'a.lua', wieght = 2} } } }", NULL, 0,
                 "exp: reward.funcs[1]: unknown key \"wieght\"");
    expect_error("return { reward = { funcs = { {weight = 2} } } }", NULL, 0, "exp: reward.funcs[1] needs script");
    expect_error("return { data = { sources = { {name = 'a', path = 3} } } }", NULL, 0,
                 "exp: data.sources[1].path must be a string (got an integer)");
    const char *bad_list[] = {"reward.funcs=[{\"script\": 1}]"};
    expect_error(NULL, bad_list, 1, "--set reward.funcs=[{\"script\": 1}]: reward.funcs[1].script must be a string (got an integer)");

    // the reward section as a reward configuration
    const char *rfile = "return { reward = { funcs = { {script = 'a.lua'}, {script = 'b.lua', weight = 0.5, name = 'fmt'} },\n"
                        "  failure_score = -1, max_memory_mb = 8 } }";
    CHECK_OK(rlc_exp_load(write_exp(rfile), NULL, 0, &e));
    if (e) {
        rlc_reward_func funcs[4];
        rlc_reward_config cfg;
        CHECK_OK(rlc_exp_reward_config(e, funcs, 4, &cfg));
        CHECK(cfg.n_funcs == 2 && strcmp(funcs[0].path, "a.lua") == 0 && funcs[0].weight == 1.0 && !funcs[0].name);
        CHECK(funcs[1].weight == 0.5 && strcmp(funcs[1].name, "fmt") == 0);
        CHECK(cfg.failure_score == -1 && cfg.limits.max_memory == (8u << 20) &&
              cfg.limits.max_instructions == 10000000 && cfg.limits.max_seconds == 1.0);
        CHECK(rlc_exp_reward_config(e, funcs, 1, &cfg) == RLC_ERR_CONFIG);
    }
    rlc_exp_free(e);

    // bad files
    CHECK(rlc_exp_load(write_exp("return 3"), NULL, 0, &e) == RLC_ERR_CONFIG);
    CHECK_MSG(strstr(rlc_last_error(), "must return a table") != NULL, "%s", rlc_last_error());
    CHECK(rlc_exp_load(write_exp("return {"), NULL, 0, &e) == RLC_ERR_CONFIG);
    CHECK(rlc_exp_load(write_exp("os.exit(1)"), NULL, 0, &e) == RLC_ERR_CONFIG);
    CHECK_MSG(strstr(rlc_last_error(), "global 'os'") != NULL, "%s", rlc_last_error());
    CHECK(rlc_exp_load("/nonexistent/exp.lua", NULL, 0, &e) == RLC_ERR_IO);
    remove(tmp);

    // base: a file over another (path relative to the file's folder), nested,
    // the base's keys counted as set; a bad base, a missing one and a cycle
    {
        char dir[] = "/tmp/rlc_test_base_XXXXXX", p0[300], p1[300], p2[300];
        CHECK(mkdtemp(dir) != NULL);
        snprintf(p0, sizeof p0, "%s/root.lua", dir);
        snprintf(p1, sizeof p1, "%s/mid.lua", dir);
        snprintf(p2, sizeof p2, "%s/top.lua", dir);
        const struct { const char *path, *text; } files[] = {
            {p0, "return { algorithm = { lr = 3e-5, clip_low = 0.1, group_size = 16 }, sampling = { top_k = 5 } }"},
            {p1, "return { base = 'root.lua', algorithm = { lr = 4e-5 } }"},
            {p2, "return { base = 'mid.lua', algorithm = { name = 'dapo' }, sampling = { top_k = 7 } }"},
        };
        for (int k = 0; k < 3; k++) {
            FILE *f = fopen(files[k].path, "w");
            if (f) fputs(files[k].text, f), fclose(f);
        }
        const char *bov[] = {"algorithm.group_size=4"};
        CHECK_OK(rlc_exp_load(p2, bov, 1, &e));
        double lr = 0, lo = 0, hi = 0;
        long long gs = 0, tk = 0;
        int dyn = 0;
        if (e) {
            CHECK_OK(rlc_exp_get_number(e, "algorithm.lr", &lr));
            CHECK_OK(rlc_exp_get_number(e, "algorithm.clip_low", &lo));
            CHECK_OK(rlc_exp_get_number(e, "algorithm.clip_high", &hi));
            CHECK_OK(rlc_exp_get_int(e, "algorithm.group_size", &gs));
            CHECK_OK(rlc_exp_get_int(e, "sampling.top_k", &tk));
            CHECK_OK(rlc_exp_get_bool(e, "algorithm.dynamic_sampling", &dyn));
            // mid's lr over root's, top's top_k over root's, --set last; the dapo
            // preset fills what no file set (dynamic_sampling) and keeps root's clip_low
            CHECK_MSG(lr == 4e-5 && gs == 4 && tk == 7, "lr %g group_size %lld top_k %lld", lr, gs, tk);
            CHECK_MSG(lo == 0.1 && hi == 0.28 && dyn == 1, "clip_low %g clip_high %g dynamic %d", lo, hi, dyn);
            CHECK(rlc_exp_is_set(e, "algorithm.clip_low") && !rlc_exp_is_set(e, "algorithm.kl_coef"));
        }
        rlc_exp_free(e);
        e = NULL;
        const struct { const char *text, *want; } bad[] = {
            {"return { base = 3 }", "\"base\" must be a file name"},
            {"return { base = 'nope.lua' }", "nope.lua"},
            {"return { base = 'top.lua' }", "nested \"base\" files (a cycle?)"},
            {"return { base = 'root.lua', algorithm = { lrr = 1 } }", "algorithm.lr"},
        };
        for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
            FILE *f = fopen(p0, "w");  // root.lua: a cycle back through top.lua for the third case
            if (f) fputs(k == 2 ? "return { base = 'top.lua' }" : files[0].text, f), fclose(f);
            char pb[320];
            snprintf(pb, sizeof pb, "%s/bad.lua", dir);
            f = fopen(pb, "w");
            if (f) fputs(bad[k].text, f), fclose(f);
            rlc_status st = rlc_exp_load(k == 2 ? p2 : pb, NULL, 0, &e);
            CHECK_MSG(st != RLC_OK && strstr(rlc_last_error(), bad[k].want) != NULL, "bad base %zu: %s (%s)", k,
                      rlc_last_error(), rlc_status_name(st));
            rlc_exp_free(e);
            e = NULL;
            remove(pb);
        }
        remove(p0), remove(p1), remove(p2), rmdir(dir);
    }

    // docs/config.md is generated from the same table
    char path[1024];
    char *doc = rlc_exp_doc_markdown(), *md = NULL;
    size_t len;
    CHECK(doc != NULL);
    CHECK_OK(rlc_read_file(test_source(path, sizeof path, "docs/config.md"), &md, &len));
    CHECK_MSG(doc && md && strcmp(doc, md) == 0,
              "docs/config.md is out of date: regenerate with `rlc config --doc > docs/config.md`");
    rlc_free(doc);
    rlc_free(md);
    return test_finish("test_experiment");
}
