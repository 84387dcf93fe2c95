// test_rl_arith.c: a short run of the default experiment's GRPO stage on
// the CPU: from the committed SFT warm start (tests/data/arith: the model of
// scripts/experiments/arith_sft.lua, stored in bf16 by
// scripts/make_arith_fixture.sh), 16 GRPO steps of 16 prompts x 8 samples
// must raise the held-out reward mean (greedy, rlc.math graded, 200
// problems the run never trains on) by at least 3 points. Real components
// throughout: the rlc binary, inproc ZeroMQ, the Lua reward, the tokenizer.
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/core.h"
#include "test.h"

int main(void) {
    char model[1024], data[1024], exp[1024];
    test_source(model, sizeof model, "tests/data/arith/sft");
    test_source(exp, sizeof exp, "scripts/experiments/arith.lua");
    if (!rlc_file_exists(strcat(strcpy(data, model), "/model.safetensors")))
        TEST_SKIP("no arith fixture (run scripts/make_arith_fixture.sh)");
    char dir[] = "/tmp/rlc_test_rl_arith_XXXXXX";
    if (!mkdtemp(dir)) return 1;
    if (chdir(getenv("RLC_SOURCE") ? getenv("RLC_SOURCE") : ".") != 0) return 1;
    // The problems: generated, as the experiment does, into the run folder.
    const char *bin = getenv("RLC_BIN") ? getenv("RLC_BIN") : "./rlc";
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s data arith --out %s/data --sft 16 --train 2000 --heldout 200 --seed 1 > %s/data.log 2>&1",
             bin, dir, dir);
    CHECK_MSG(system(cmd) == 0, "rlc data arith failed: %s", cmd);
    snprintf(cmd, sizeof cmd,
             "%s train %s --threads 2 --quiet --set model.path=%s "
             "--set 'data.sources=[{\"name\":\"arith\",\"path\":\"%s/data/train.jsonl\"}]' "
             "--set eval.path=%s/data/heldout.jsonl --set eval.n=200 --set output.eval_every=0 "
             "--set algorithm.steps=16 --set algorithm.batch_prompts=16 --set algorithm.group_size=8 "
             "--set rollout.slots=128 --set output.dir=%s/run > %s/train.log 2>&1",
             bin, exp, model, dir, dir, dir, dir);
    double t0 = rlc_now();
    int rc = system(cmd);
    CHECK_MSG(rc == 0, "rlc train exited %d (log in %s/train.log)", rc, dir);
    char path[1100];
    snprintf(path, sizeof path, "%s/run/summary.json", dir);
    json_t *sum = json_load_file(path, 0, NULL);
    CHECK_MSG(sum != NULL, "no %s", path);
    if (sum) {
        double before = json_number_value(json_object_get(json_object_get(sum, "eval_before"), "pass@1"));
        double after = json_number_value(json_object_get(json_object_get(sum, "eval_after"), "pass@1"));
        printf("held-out reward mean (greedy pass@1): %.3f before, %.3f after 16 GRPO steps (%+.1f points, %.0f s)\n",
               before, after, 100 * (after - before), rlc_now() - t0);
        CHECK_MSG(after >= before + 0.03, "GRPO raised the held-out reward from %.3f to %.3f only", before, after);
        json_decref(sum);
    }
    if (!test_failures) {
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    }
    return test_finish("test_rl_arith");
}
