// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * uksm_emu - an emulation of the sysfs ABI of UKSM ("Ultra KSM") for the test suite of the
 * Ansible collection litevirt.uksm.
 *
 * On load it creates /sys/kernel/mm/uksm with the 16 attributes of UKSM 0.1.2.x and starts a
 * kernel thread named "uksmd". It merges no pages: it only reproduces what userspace sees through
 * sysfs (read formats, accepted values, clamps, errno, the governor presets), as written down in
 * the collection's contract, docs/kernel-interfaces.md section 2. The memory-corruption, leak and
 * read-past-buffer hazards of the real stores are NOT reproduced: every store here is safe to call
 * any number of times.
 *
 * uksmd raises a short sleep_millisecs as in section 2.5 (steps 2 to 4 after every batch), with an
 * ema_per_page_time that a test sets and that does not move by itself, and an evaluation round
 * that uksmd advances every UKSMD_BATCHES_PER_EVAL_ROUND batches and a test may set. Both are
 * module parameters writable by root at run time:
 *   /sys/module/uksm_emu/parameters/ema_per_page_time   (ns, default 500, what the statistic shows)
 *   /sys/module/uksm_emu/parameters/eval_round          (starts at 1; a write starts that round)
 * Throughout every round that is a multiple of 256, step 2 resets the ema to 500, and with no step 1
 * nothing brings a test's value back: a test that needs its ema for a while writes eval_round 1
 * first (255 rounds of 32 batches: about 7 minutes at a raised sleep of 52 ms).
 *
 * Optional (module parameter hazard_ratio_kill=1): a successful cpu_ratios write with a positive
 * value of 10000 makes uksmd exit, as the real scanner dies of a divide error. Writes to run never
 * block, with or without it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/kobject.h>
#include <linux/kthread.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/stringify.h>
#include <linux/sysfs.h>
#include <linux/wait.h>

#define UKSM_RATIO_SCALE	10000	/* cpu_ratios are in 1/10000 of a CPU */
#define UKSM_NR_RUNGS		4
#define UKSM_SLEEP_MAX_MS	1000
#define UKSM_THRESHOLD_MAX	99

/* Emulated scanner activity per uksmd batch (only so that the counters move). */
#define UKSMD_PAGES_PER_ROUND	256
#define UKSMD_ROUNDS_PER_SCAN	50

/* Section 2.5: the raise of a short sleep. */
#define UKSM_EMA_DEFAULT		500	/* ns: the kernel's initial ema and the value of a reset */
#define UKSM_EMA_MAX			100000	/* ns: a larger ema is reset to UKSM_EMA_DEFAULT */
#define UKSM_RESTORE_ROUNDS		8	/* sleep = saved during every 8th evaluation round */
#define UKSM_EMA_RESET_ROUNDS		256	/* ema = 500 during every 256th evaluation round */
/*
 * Emulated: an evaluation round is 32 batches. On the real kernel a round lasts many batches (a
 * written sleep came back every 8 to 20 s, rounds of about 1 to 2.5 s); 32 batches of a raised
 * 52 ms make 8 rounds in about 13 s, and 256 rounds (an ema reset, step 2) in about 7 minutes.
 */
#define UKSMD_BATCHES_PER_EVAL_ROUND	32

static bool hazard_ratio_kill;
module_param(hazard_ratio_kill, bool, 0444);
MODULE_PARM_DESC(hazard_ratio_kill,
		 "Emulate the UKSM hazard: a positive cpu_ratios value of 10000 makes uksmd exit (default: off)");

struct uksm_governor {
	const char *name;
	int cpu_ratios[UKSM_NR_RUNGS];	/* N > 0: N/10000; MAX/N stored as -(10000 / N) */
	u32 eval_intervals[UKSM_NR_RUNGS];
	unsigned int max_cpu_percentage;
};

#define MAX_OVER(n)	(-(UKSM_RATIO_SCALE / (n)))

static const struct uksm_governor uksm_governors[] = {
	{ "full",   { 20, 40, MAX_OVER(4), MAX_OVER(1) }, { 1000, 500, 200, 50 },     95 },
	{ "medium", { 20, 30, MAX_OVER(4), MAX_OVER(1) }, { 1000, 500, 400, 100 },    50 },
	{ "low",    { 10, 20, MAX_OVER(2), MAX_OVER(1) }, { 1500, 1000, 1000, 250 },  20 },
	{ "quiet",  { 10, 20, 40, 75 },                   { 2000, 1000, 1000, 1000 }, 1 },
};

/* All of the emulated state; every field is read and written under uksm_lock. */
static DEFINE_MUTEX(uksm_lock);
static struct {
	unsigned int run;
	unsigned long sleep_jiffies;	/* what sleep_millisecs shows (section 2.5: sleep) */
	unsigned long sleep_saved;	/* the last written, in jiffies (section 2.5: saved) */
	unsigned int max_cpu_percentage;
	unsigned int governor;
	int cpu_ratios[UKSM_NR_RUNGS];
	u32 eval_intervals[UKSM_NR_RUNGS];
	unsigned int abundant_threshold;
	unsigned int thrash_threshold;

	unsigned long pages_shared;
	unsigned long pages_sharing;
	unsigned long pages_unshared;
	unsigned long pages_scanned;
	unsigned long ema_per_page_time;
	unsigned long hash_strength;
	u64 full_scans;
	u64 sleep_times;

	unsigned long eval_round;	/* evaluation round, starts at 1 */
	unsigned int round_batches;	/* batches done in the current evaluation round */

	bool kill_uksmd;	/* set by the emulated cpu_ratios hazard */
} uksm = {
	/* Here, not in uksm_emu_init(): parameters given to insmod are set before init runs. */
	.ema_per_page_time = UKSM_EMA_DEFAULT,
	.eval_round = 1,
};

static struct kobject *uksm_kobj;
static struct task_struct *uksmd_task;
static DECLARE_WAIT_QUEUE_HEAD(uksmd_wait);

/* ------------------------------------------------------------------------------------------ */
/* Test controls of section 2.5: module parameters, mode 0644, read and written under uksm_lock */

static int uksm_param_get(char *buffer, const struct kernel_param *kp)
{
	unsigned long v;

	mutex_lock(&uksm_lock);
	v = *(unsigned long *)kp->arg;
	mutex_unlock(&uksm_lock);
	return scnprintf(buffer, PAGE_SIZE, "%lu\n", v);
}

/* Any unsigned long (kstrtoul, base 10); an ema above 100000 is reset at uksmd's next batch. */
static int uksm_param_set_ema(const char *val, const struct kernel_param *kp)
{
	unsigned long v;

	if (kstrtoul(val, 10, &v))
		return -EINVAL;
	mutex_lock(&uksm_lock);
	uksm.ema_per_page_time = v;
	mutex_unlock(&uksm_lock);
	return 0;
}

/* Any unsigned long: the next UKSMD_BATCHES_PER_EVAL_ROUND batches belong to that round. */
static int uksm_param_set_round(const char *val, const struct kernel_param *kp)
{
	unsigned long v;

	if (kstrtoul(val, 10, &v))
		return -EINVAL;
	mutex_lock(&uksm_lock);
	uksm.eval_round = v;
	uksm.round_batches = 0;
	mutex_unlock(&uksm_lock);
	return 0;
}

static const struct kernel_param_ops uksm_ema_ops = {
	.set = uksm_param_set_ema,
	.get = uksm_param_get,
};

static const struct kernel_param_ops uksm_round_ops = {
	.set = uksm_param_set_round,
	.get = uksm_param_get,
};

module_param_cb(ema_per_page_time, &uksm_ema_ops, &uksm.ema_per_page_time, 0644);
MODULE_PARM_DESC(ema_per_page_time,
		 "ns per page that uksmd's raise of a short sleep uses (the statistic ema_per_page_time); "
		 "set by a test, never moves by itself; above 100000 it is reset to 500 (default: 500)");
module_param_cb(eval_round, &uksm_round_ops, &uksm.eval_round, 0644);
MODULE_PARM_DESC(eval_round,
		 "evaluation round, starts at 1, advanced by uksmd every "
		 __stringify(UKSMD_BATCHES_PER_EVAL_ROUND) " batches; a write starts that round");

static void uksm_apply_governor(unsigned int idx)
{
	const struct uksm_governor *g = &uksm_governors[idx];

	uksm.governor = idx;
	memcpy(uksm.cpu_ratios, g->cpu_ratios, sizeof(uksm.cpu_ratios));
	memcpy(uksm.eval_intervals, g->eval_intervals, sizeof(uksm.eval_intervals));
	uksm.max_cpu_percentage = g->max_cpu_percentage;
}

/* ------------------------------------------------------------------------------------------ */
/* Parsing                                                                                      */

/* kstrtoul(buf, 10): optional '+', decimal digits, one optional trailing newline; else EINVAL. */
static int uksm_parse_ulong(const char *buf, unsigned long max, unsigned long *val)
{
	if (kstrtoul(buf, 10, val) || *val > max)
		return -EINVAL;
	return 0;
}

/*
 * Split a 4-token list ("a b c d", optionally followed by one newline) into tokens, in a copy of
 * the written bytes. Tokens are separated by exactly one space: a missing or doubled separator,
 * a leading or trailing space, an empty token, a newline anywhere but at the very end or an
 * embedded NUL is EINVAL. On success *copy must be kfree()d by the caller.
 */
static int uksm_split4(const char *buf, size_t count, char **copy, char *tok[UKSM_NR_RUNGS])
{
	char *s, *p;
	int i;

	s = kmemdup_nul(buf, count, GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	if (strlen(s) != count)
		goto inval;
	if (count && s[count - 1] == '\n')
		s[count - 1] = '\0';
	if (strchr(s, '\n'))
		goto inval;

	p = s;
	for (i = 0; i < UKSM_NR_RUNGS; i++) {
		tok[i] = strsep(&p, " ");
		if (!tok[i] || !*tok[i])
			goto inval;
	}
	if (p)		/* a fifth token, or a trailing space */
		goto inval;
	*copy = s;
	return 0;
inval:
	kfree(s);
	return -EINVAL;
}

/* One cpu_ratios token: N (1..10000) or MAX/N (N 1..10000, stored as -(10000 / N)). */
static int uksm_parse_ratio(const char *tok, int *ratio)
{
	bool is_max = !strncmp(tok, "MAX/", 4);
	unsigned long n;

	if (kstrtoul(is_max ? tok + 4 : tok, 10, &n) || n < 1 || n > UKSM_RATIO_SCALE)
		return -EINVAL;
	*ratio = is_max ? -(int)(UKSM_RATIO_SCALE / n) : (int)n;
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Writable attributes                                                                          */

static ssize_t run_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	unsigned int v;

	mutex_lock(&uksm_lock);
	v = uksm.run;
	mutex_unlock(&uksm_lock);
	return sysfs_emit(buf, "%u\n", v);
}

static ssize_t run_store(struct kobject *kobj, struct kobj_attribute *attr,
			 const char *buf, size_t count)
{
	unsigned long v;

	if (uksm_parse_ulong(buf, 1, &v))
		return -EINVAL;
	mutex_lock(&uksm_lock);
	uksm.run = v;
	mutex_unlock(&uksm_lock);
	if (v)
		wake_up_interruptible(&uksmd_wait);
	/* Never waits for uksmd, alive or not. */
	return count;
}

static ssize_t sleep_millisecs_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	unsigned long j;

	mutex_lock(&uksm_lock);
	j = uksm.sleep_jiffies;
	mutex_unlock(&uksm_lock);
	return sysfs_emit(buf, "%u\n", jiffies_to_msecs(j));
}

static ssize_t sleep_millisecs_store(struct kobject *kobj, struct kobj_attribute *attr,
				     const char *buf, size_t count)
{
	unsigned long ms;

	if (uksm_parse_ulong(buf, UKSM_SLEEP_MAX_MS, &ms))
		return -EINVAL;
	mutex_lock(&uksm_lock);
	uksm.sleep_jiffies = msecs_to_jiffies(ms);	/* rounds up to the tick */
	uksm.sleep_saved = uksm.sleep_jiffies;
	mutex_unlock(&uksm_lock);
	return count;
}

static ssize_t max_cpu_percentage_show(struct kobject *kobj, struct kobj_attribute *attr,
				       char *buf)
{
	unsigned int v;

	mutex_lock(&uksm_lock);
	v = uksm.max_cpu_percentage;
	mutex_unlock(&uksm_lock);
	return sysfs_emit(buf, "%u\n", v);
}

static ssize_t max_cpu_percentage_store(struct kobject *kobj, struct kobj_attribute *attr,
					const char *buf, size_t count)
{
	unsigned long v;

	if (uksm_parse_ulong(buf, 100, &v))
		return -EINVAL;
	if (v < 10)
		v = 10;
	else if (v == 100)
		v = 99;
	mutex_lock(&uksm_lock);
	uksm.max_cpu_percentage = v;
	mutex_unlock(&uksm_lock);
	return count;
}

static ssize_t cpu_governor_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	unsigned int cur, i;
	int len = 0;

	mutex_lock(&uksm_lock);
	cur = uksm.governor;
	mutex_unlock(&uksm_lock);
	for (i = 0; i < ARRAY_SIZE(uksm_governors); i++)
		len += sysfs_emit_at(buf, len, i == cur ? "[%s] " : "%s ", uksm_governors[i].name);
	len += sysfs_emit_at(buf, len, "\n");
	return len;
}

static ssize_t cpu_governor_store(struct kobject *kobj, struct kobj_attribute *attr,
				  const char *buf, size_t count)
{
	unsigned int i;

	/* Prefix match, case-sensitive: "fullxyz" selects full, " full" matches nothing. */
	for (i = 0; i < ARRAY_SIZE(uksm_governors); i++)
		if (!strncmp(buf, uksm_governors[i].name, strlen(uksm_governors[i].name)))
			break;
	if (i == ARRAY_SIZE(uksm_governors))
		return -EINVAL;
	mutex_lock(&uksm_lock);
	uksm_apply_governor(i);		/* on every write, even of the current governor */
	mutex_unlock(&uksm_lock);
	return count;
}

static ssize_t cpu_ratios_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	int r[UKSM_NR_RUNGS];
	int i, len = 0;

	mutex_lock(&uksm_lock);
	memcpy(r, uksm.cpu_ratios, sizeof(r));
	mutex_unlock(&uksm_lock);
	for (i = 0; i < UKSM_NR_RUNGS; i++) {
		if (r[i] > 0)
			len += sysfs_emit_at(buf, len, "%d ", r[i]);
		else
			len += sysfs_emit_at(buf, len, "MAX/%d ", UKSM_RATIO_SCALE / -r[i]);
	}
	len += sysfs_emit_at(buf, len, "\n");
	return len;
}

static ssize_t cpu_ratios_store(struct kobject *kobj, struct kobj_attribute *attr,
				const char *buf, size_t count)
{
	char *copy, *tok[UKSM_NR_RUNGS];
	int r[UKSM_NR_RUNGS];
	bool kill = false;
	int i, err;

	err = uksm_split4(buf, count, &copy, tok);
	if (err)
		return err;
	for (i = 0; i < UKSM_NR_RUNGS && !err; i++) {
		err = uksm_parse_ratio(tok[i], &r[i]);
		if (!err && r[i] == UKSM_RATIO_SCALE)
			kill = true;
	}
	kfree(copy);
	if (err)
		return err;

	mutex_lock(&uksm_lock);
	memcpy(uksm.cpu_ratios, r, sizeof(r));
	if (kill && hazard_ratio_kill)
		uksm.kill_uksmd = true;
	mutex_unlock(&uksm_lock);
	if (kill && hazard_ratio_kill)
		wake_up_interruptible(&uksmd_wait);
	return count;
}

static ssize_t eval_intervals_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	u32 e[UKSM_NR_RUNGS];
	int i, len = 0;

	mutex_lock(&uksm_lock);
	memcpy(e, uksm.eval_intervals, sizeof(e));
	mutex_unlock(&uksm_lock);
	for (i = 0; i < UKSM_NR_RUNGS; i++)
		len += sysfs_emit_at(buf, len, "%u ", e[i]);
	len += sysfs_emit_at(buf, len, "\n");
	return len;
}

static ssize_t eval_intervals_store(struct kobject *kobj, struct kobj_attribute *attr,
				    const char *buf, size_t count)
{
	char *copy, *tok[UKSM_NR_RUNGS];
	u32 e[UKSM_NR_RUNGS];
	unsigned long v;
	int i, err;

	err = uksm_split4(buf, count, &copy, tok);
	if (err)
		return err;
	for (i = 0; i < UKSM_NR_RUNGS; i++) {
		if (kstrtoul(tok[i], 10, &v)) {
			err = -EINVAL;
			break;
		}
		e[i] = (u32)v;	/* no range check: above 2^32-1 is silently truncated */
	}
	kfree(copy);
	if (err)
		return err;

	mutex_lock(&uksm_lock);
	memcpy(uksm.eval_intervals, e, sizeof(e));
	mutex_unlock(&uksm_lock);
	return count;
}

#define UKSM_THRESHOLD_ATTR(_name)							\
static ssize_t _name##_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)	\
{											\
	unsigned int v;									\
											\
	mutex_lock(&uksm_lock);								\
	v = uksm._name;									\
	mutex_unlock(&uksm_lock);							\
	return sysfs_emit(buf, "%u\n", v);						\
}											\
											\
static ssize_t _name##_store(struct kobject *kobj, struct kobj_attribute *attr,		\
			     const char *buf, size_t count)				\
{											\
	unsigned long v;								\
											\
	if (uksm_parse_ulong(buf, UKSM_THRESHOLD_MAX, &v))				\
		return -EINVAL;								\
	mutex_lock(&uksm_lock);								\
	uksm._name = v;									\
	mutex_unlock(&uksm_lock);							\
	return count;									\
}

UKSM_THRESHOLD_ATTR(abundant_threshold)
UKSM_THRESHOLD_ATTR(thrash_threshold)

/* ------------------------------------------------------------------------------------------ */
/* Read-only statistics                                                                         */

#define UKSM_STAT_ATTR(_name, _fmt)							\
static ssize_t _name##_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)	\
{											\
	typeof(uksm._name) v;								\
											\
	mutex_lock(&uksm_lock);								\
	v = uksm._name;									\
	mutex_unlock(&uksm_lock);							\
	return sysfs_emit(buf, _fmt "\n", v);						\
}

UKSM_STAT_ATTR(pages_shared, "%lu")
UKSM_STAT_ATTR(pages_sharing, "%lu")
UKSM_STAT_ATTR(pages_unshared, "%lu")
UKSM_STAT_ATTR(full_scans, "%llu")
UKSM_STAT_ATTR(pages_scanned, "%lu")	/* 64-bit: never needs the "N * 2^B" form */
UKSM_STAT_ATTR(ema_per_page_time, "%lu")
UKSM_STAT_ATTR(hash_strength, "%lu")
UKSM_STAT_ATTR(sleep_times, "%llu")

/* __ATTR_RW is mode 0644, __ATTR_RO 0444 (no store: opening for write fails with EACCES). */
static struct kobj_attribute run_attr = __ATTR_RW(run);
static struct kobj_attribute sleep_millisecs_attr = __ATTR_RW(sleep_millisecs);
static struct kobj_attribute cpu_governor_attr = __ATTR_RW(cpu_governor);
static struct kobj_attribute max_cpu_percentage_attr = __ATTR_RW(max_cpu_percentage);
static struct kobj_attribute cpu_ratios_attr = __ATTR_RW(cpu_ratios);
static struct kobj_attribute eval_intervals_attr = __ATTR_RW(eval_intervals);
static struct kobj_attribute abundant_threshold_attr = __ATTR_RW(abundant_threshold);
static struct kobj_attribute thrash_threshold_attr = __ATTR_RW(thrash_threshold);
static struct kobj_attribute pages_shared_attr = __ATTR_RO(pages_shared);
static struct kobj_attribute pages_sharing_attr = __ATTR_RO(pages_sharing);
static struct kobj_attribute pages_unshared_attr = __ATTR_RO(pages_unshared);
static struct kobj_attribute full_scans_attr = __ATTR_RO(full_scans);
static struct kobj_attribute pages_scanned_attr = __ATTR_RO(pages_scanned);
static struct kobj_attribute ema_per_page_time_attr = __ATTR_RO(ema_per_page_time);
static struct kobj_attribute hash_strength_attr = __ATTR_RO(hash_strength);
static struct kobj_attribute sleep_times_attr = __ATTR_RO(sleep_times);

static struct attribute *uksm_attrs[] = {
	&run_attr.attr,
	&sleep_millisecs_attr.attr,
	&cpu_governor_attr.attr,
	&max_cpu_percentage_attr.attr,
	&cpu_ratios_attr.attr,
	&eval_intervals_attr.attr,
	&abundant_threshold_attr.attr,
	&thrash_threshold_attr.attr,
	&pages_shared_attr.attr,
	&pages_sharing_attr.attr,
	&pages_unshared_attr.attr,
	&full_scans_attr.attr,
	&pages_scanned_attr.attr,
	&ema_per_page_time_attr.attr,
	&hash_strength_attr.attr,
	&sleep_times_attr.attr,
	NULL,
};

static const struct attribute_group uksm_attr_group = {
	.attrs = uksm_attrs,
};

/* ------------------------------------------------------------------------------------------ */
/* uksmd                                                                                        */

/*
 * rung_real_ratio(): N for a positive rung; MAX/N (stored as -(10000 / N)) scaled by
 * max_cpu_percentage, or 1 where that gives 0.
 */
static unsigned long uksm_rung_real_ratio(int ratio)
{
	unsigned long r;

	if (ratio > 0)
		return ratio;
	r = (unsigned long)-ratio * uksm.max_cpu_percentage / 100;
	return r ? r : 1;
}

/*
 * Steps 2 to 4 of uksm_calc_scan_pages() (section 2.5), at the end of every batch, under
 * uksm_lock. Step 1 is not emulated: ema moves only when a test writes it, or by step 2.
 */
static void uksm_calc_scan_pages(void)
{
	unsigned long r, budget, ema;

	/* 2. */
	if (uksm.ema_per_page_time > UKSM_EMA_MAX || uksm.eval_round % UKSM_EMA_RESET_ROUNDS == 0)
		uksm.ema_per_page_time = UKSM_EMA_DEFAULT;
	ema = uksm.ema_per_page_time;

	/* 3. */
	if (uksm.eval_round % UKSM_RESTORE_ROUNDS == 0)
		uksm.sleep_jiffies = uksm.sleep_saved;

	/*
	 * 4. Integer arithmetic from left to right, as the kernel does. A positive 10000 would
	 * divide by zero (the real scanner dies of it, see hazard_ratio_kill): no raise then.
	 */
	r = uksm_rung_real_ratio(uksm.cpu_ratios[0]);
	if (r >= UKSM_RATIO_SCALE)
		return;
	budget = 1000UL * jiffies_to_usecs(uksm.sleep_jiffies) / (UKSM_RATIO_SCALE - r) * r;
	if (budget < ema)
		uksm.sleep_jiffies = usecs_to_jiffies(ema * (UKSM_RATIO_SCALE - r) / r / 1000) + 1;
}

static bool uksmd_should_wake(bool paused)
{
	return kthread_should_stop() || READ_ONCE(uksm.kill_uksmd) || (paused && READ_ONCE(uksm.run));
}

/*
 * One batch per wake-up while run is 1: ticks the counters, then plays section 2.5 (the raise of
 * a short sleep, the evaluation round), then sleeps sleep_millisecs (at least one tick). Waits for
 * run to become 1 while it is 0 (no batch, so no raise while paused). It touches no memory but its
 * own. All sleeps are interruptible, so kthread_stop() ends it at once.
 */
static int uksmd_fn(void *unused)
{
	unsigned int batch = 0;
	unsigned long timeout;
	bool running;

	while (!kthread_should_stop()) {
		mutex_lock(&uksm_lock);
		if (uksm.kill_uksmd) {
			mutex_unlock(&uksm_lock);
			pr_info("uksmd exits: emulated hazard of a cpu_ratios value of 10000\n");
			break;	/* task stays referenced by uksmd_task; kthread_stop() copes */
		}
		running = uksm.run;
		if (running) {
			uksm.pages_scanned += UKSMD_PAGES_PER_ROUND;
			if (++batch % UKSMD_ROUNDS_PER_SCAN == 0)
				uksm.full_scans++;
			uksm_calc_scan_pages();
			if (++uksm.round_batches >= UKSMD_BATCHES_PER_EVAL_ROUND) {
				uksm.round_batches = 0;
				uksm.eval_round++;
			}
		}
		timeout = max(uksm.sleep_jiffies, 1UL);
		mutex_unlock(&uksm_lock);

		if (running) {
			wait_event_interruptible_timeout(uksmd_wait, uksmd_should_wake(false), timeout);
			mutex_lock(&uksm_lock);
			uksm.sleep_times++;
			mutex_unlock(&uksm_lock);
		} else {
			wait_event_interruptible(uksmd_wait, uksmd_should_wake(true));
		}
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------ */

static int __init uksm_emu_init(void)
{
	struct task_struct *t;
	int err;

	uksm.run = 1;
	uksm.sleep_jiffies = msecs_to_jiffies(100);
	uksm.sleep_saved = uksm.sleep_jiffies;
	uksm_apply_governor(0);		/* full */
	uksm.abundant_threshold = 10;
	uksm.thrash_threshold = 50;
	uksm.full_scans = 1;
	uksm.hash_strength = 64;

	t = kthread_create(uksmd_fn, NULL, "uksmd");
	if (IS_ERR(t))
		return PTR_ERR(t);
	get_task_struct(t);	/* the emulated hazard lets uksmd exit on its own */
	uksmd_task = t;
	wake_up_process(t);

	uksm_kobj = kobject_create_and_add("uksm", mm_kobj);
	if (!uksm_kobj) {
		err = -ENOMEM;
		goto stop_thread;
	}
	err = sysfs_create_group(uksm_kobj, &uksm_attr_group);
	if (err)
		goto put_kobj;

	pr_info("loaded: /sys/kernel/mm/uksm emulated (HZ=%d)%s\n", HZ,
		hazard_ratio_kill ? ", hazard_ratio_kill on" : "");
	return 0;

put_kobj:
	kobject_put(uksm_kobj);
stop_thread:
	kthread_stop(uksmd_task);
	put_task_struct(uksmd_task);
	return err;
}

static void __exit uksm_emu_exit(void)
{
	/* After this, no show or store is running or can start (kernfs drains them). */
	sysfs_remove_group(uksm_kobj, &uksm_attr_group);
	kobject_put(uksm_kobj);
	kthread_stop(uksmd_task);
	put_task_struct(uksmd_task);
	pr_info("unloaded\n");
}

module_init(uksm_emu_init);
module_exit(uksm_emu_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Emulation of the UKSM sysfs ABI (/sys/kernel/mm/uksm) for litevirt.uksm tests");
MODULE_AUTHOR("litevirt.uksm contributors");
