/*
 * Reload's comparison (which tunnels are new, removed, changed or
 * unchanged) and start-up reconciliation's verdicts on leftovers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "reconcile.h"
#include "reload.h"
#include "routing.h"

static struct in6_addr A(const char *s) {
	struct in6_addr a;

	assert_int_equal(inet_pton(AF_INET6, s, &a), 1);
	return a;
}

/* A file tunnel (tic = no), as config_load would give it. */
static struct tunnel_entry
entry(const char *name, const char *file, unsigned n)
{
	struct tunnel_entry e;
	char a[64];

	memset(&e, 0, sizeof(e));
	e.valid = true;
	snprintf(e.conf.name, sizeof(e.conf.name), "%s", name);
	snprintf(e.conf.file, sizeof(e.conf.file), "/etc/aiccud/conf.d/%s", file);
	snprintf(e.conf.id, sizeof(e.conf.id), "T%u", 10000 + n);
	e.conf.table = 200 + n;
	e.conf.rule_priority = 1000 + n;
	e.conf.liveness_misses = 3;
	strcpy(e.conf.account.server, "tic.example.net");
	e.conf.account.require_tls = true;
	e.conf.params.type = TUNNEL_AYIYA;
	snprintf(a, sizeof(a), "2001:db8:%x::2", n + 1);
	e.conf.params.ipv6_local = A(a);
	snprintf(a, sizeof(a), "2001:db8:%x::1", n + 1);
	e.conf.params.ipv6_pop = A(a);
	e.conf.params.prefix_len = 64;
	inet_pton(AF_INET, "192.0.2.1", &e.conf.params.ipv4_pop);
	snprintf(e.conf.params.password, sizeof(e.conf.params.password), "secret-%u", n);
	e.conf.params.heartbeat_interval = 60;
	e.conf.params.mtu = 1280;
	return e;
}

static void test_same(void **state)
{
	struct tunnel_entry a = entry("sixxs0", "sixxs0.conf", 0), b = a;

	(void)state;
	assert_true(reload_conf_same(&a.conf, &b.conf));
	assert_int_equal(reload_classify(&a, &b), RELOAD_SAME);
	/* Padding and bytes after a string's end do not count. */
	memset(b.conf.setup_script + 1, 'x', 10);
	b.conf.setup_script[0] = '\0';
	assert_int_equal(reload_classify(&a, &b), RELOAD_SAME);
}

typedef void (*mutate_fn)(struct tunnel_conf *c);
#define MUT(name, stmt)                                                                            \
	static void name(struct tunnel_conf *c)                                                    \
	{                                                                                          \
		stmt;                                                                              \
	}
MUT(m_table, c->table++)
MUT(m_prio, c->rule_priority++)
MUT(m_mtu, c->mtu_override = 1400)
MUT(m_datapath, c->datapath = DATAPATH_USERSPACE)
MUT(m_id, strcpy(c->id, "T99999"))
MUT(m_file, strcpy(c->file, "/etc/aiccud/conf.d/other.conf"))
MUT(m_server, strcpy(c->account.server, "tic2.example.net"))
MUT(m_user, strcpy(c->account.username, "ABC1-SIXXS"))
MUT(m_ticpw, strcpy(c->account.password, "new"))
MUT(m_tls, c->account.require_tls = false)
MUT(m_ca, strcpy(c->account.ca_file, "/etc/ssl/ca.pem"))
MUT(m_tic, c->tic = true)
MUT(m_nat, c->heartbeat_ipv4 = HEARTBEAT_IPV4_LOCAL)
MUT(m_live, c->liveness = LIVENESS_ICMP)
MUT(m_misses, c->liveness_misses = 5)
MUT(m_script, strcpy(c->setup_script, "/etc/aiccud/up.sh"))
MUT(m_routed, (c->routed[0].addr = A("2001:db8:100::"), c->routed[0].len = 48, c->nrouted = 1))
MUT(m_type, c->params.type = TUNNEL_6IN4_HEARTBEAT)
MUT(m_local, c->params.ipv6_local = A("2001:db8:1::3"))
MUT(m_pop6, c->params.ipv6_pop = A("2001:db8:1::9"))
MUT(m_plen, c->params.prefix_len = 112)
MUT(m_pop4, inet_pton(AF_INET, "192.0.2.9", &c->params.ipv4_pop))
MUT(m_local4, inet_pton(AF_INET, "192.0.2.2", &c->params.ipv4_local))
MUT(m_pw, strcpy(c->params.password, "rotated"))
MUT(m_hb, c->params.heartbeat_interval = 30)
MUT(m_pmtu, c->params.mtu = 1480)
MUT(m_defroute, c->default_route = true)
MUT(m_metric, c->default_route_metric = 2000)

static void test_every_field_is_a_change(void **state)
{
	static const mutate_fn muts[] = {m_table,  m_prio, m_mtu,      m_datapath, m_id,     m_file,
	                                 m_server, m_user, m_ticpw,    m_tls,      m_ca,     m_tic,
	                                 m_nat,    m_live, m_misses,   m_script,   m_routed, m_type,
	                                 m_local,  m_pop6, m_plen,     m_pop4,     m_local4, m_pw,
	                                 m_hb,     m_pmtu, m_defroute, m_metric};

	(void)state;
	for (size_t i = 0; i < sizeof(muts) / sizeof(muts[0]); i++) {
		struct tunnel_entry a = entry("sixxs0", "sixxs0.conf", 0), b = a;

		muts[i](&b.conf);
		assert_false(reload_conf_same(&a.conf, &b.conf));
		assert_int_equal(reload_classify(&a, &b), RELOAD_CHANGED);
	}
}

static void test_tic_params_are_runtime(void **state)
{
	struct tunnel_entry a = entry("sixxs0", "sixxs0.conf", 0), b;

	(void)state;
	a.conf.tic = true;
	b = a;
	/* The running tunnel holds what its worker reported; the file has none. */
	memset(&b.conf.params, 0, sizeof(b.conf.params));
	assert_int_equal(reload_classify(&a, &b), RELOAD_SAME);
	strcpy(b.conf.account.password, "changed");
	assert_int_equal(reload_classify(&a, &b), RELOAD_CHANGED);
}

static void test_validity(void **state)
{
	struct tunnel_entry good = entry("sixxs0", "sixxs0.conf", 0), bad = good, bad2;

	(void)state;
	bad.valid = false;
	strcpy(bad.error, "sixxs0.conf:12: unknown key 'tabel'");
	bad2 = bad;
	assert_int_equal(reload_classify(NULL, &good), RELOAD_ADD);
	assert_int_equal(reload_classify(&good, &bad), RELOAD_KEEP_OLD);
	assert_int_equal(reload_classify(&bad, &good), RELOAD_CHANGED);
	assert_int_equal(reload_classify(&bad, &bad2), RELOAD_SAME);
	strcpy(bad2.error, "sixxs0.conf:13: unknown key 'tabel'");
	assert_int_equal(reload_classify(&bad, &bad2), RELOAD_CHANGED);
}

static void test_match_add_remove_change(void **state)
{
	struct tunnel_entry o[3] = {entry("sixxs0", "a.conf", 0), entry("sixxs1", "b.conf", 1),
	                            entry("sixxs2", "c.conf", 2)};
	struct tunnel_entry n[3] = {entry("sixxs1", "b.conf", 1), entry("sixxs2", "c.conf", 2),
	                            entry("sixxs3", "d.conf", 3)};
	const struct tunnel_entry *old[3] = {&o[0], &o[1], &o[2]};
	long m[3];

	(void)state;
	n[1].conf.table = 250;
	reload_match(old, 3, n, 3, m);
	assert_int_equal(m[0], 1);
	assert_int_equal(m[1], 2);
	assert_int_equal(m[2], -1); /* sixxs3 is new; sixxs0 (old 0) is unmatched: removed */
	assert_int_equal(reload_classify(old[m[0]], &n[0]), RELOAD_SAME);
	assert_int_equal(reload_classify(old[m[1]], &n[1]), RELOAD_CHANGED);
}

static void test_match_duplicates_and_renames(void **state)
{
	struct tunnel_entry o[2] = {entry("sixxs0", "x1.conf", 0), entry("sixxs0", "x2.conf", 0)};
	struct tunnel_entry n[2] = {entry("sixxs0", "x2.conf", 0), entry("sixxs0", "y.conf", 0)};
	const struct tunnel_entry *old[2] = {&o[0], &o[1]};
	long m[2];

	(void)state;
	o[1].valid = false; /* the refused duplicate */
	reload_match(old, 2, n, 2, m);
	assert_int_equal(m[0], 1); /* same name and file first */
	assert_int_equal(m[1], 0); /* then the same name from another file */
	assert_int_equal(reload_classify(old[m[1]], &n[1]), RELOAD_CHANGED);
	reload_match(old, 2, n, 0, m);
	reload_match(old, 0, n, 2, m);
	assert_int_equal(m[0], -1);
	assert_int_equal(m[1], -1);
}

/* 500 running, a configuration of 1000 (the 500, unchanged, and 500 new): only adds. */
static void test_plan_adds_500_to_500(void **state)
{
	enum { OLD = 500, NEW = 1000 };
	static struct tunnel_entry olds[OLD], news[NEW];
	const struct tunnel_entry *old[OLD];
	bool removing[OLD] = {false};
	struct reload_plan plan;
	char name[IFNAMSIZ], file[64];

	(void)state;
	for (unsigned i = 0; i < NEW; i++) {
		snprintf(name, sizeof(name), "t%04u", i);
		snprintf(file, sizeof(file), "t%04u.conf", i);
		news[i] = entry(name, file, i);
		if (i < OLD) {
			olds[i] = news[i];
			old[i] = &olds[i];
		}
	}
	assert_int_equal(reload_plan(old, removing, OLD, news, NEW, &plan), 0);
	assert_int_equal(plan.count[RELOAD_SAME], OLD);
	assert_int_equal(plan.count[RELOAD_ADD], NEW - OLD);
	assert_int_equal(plan.count[RELOAD_CHANGED], 0);
	assert_int_equal(plan.removed, 0);
	for (unsigned j = 0; j < NEW; j++) {
		assert_int_equal(plan.new_action[j], j < OLD ? RELOAD_SAME : RELOAD_ADD);
		assert_int_equal(plan.old_of_new[j], j < OLD ? (long)j : -1);
	}
	reload_plan_free(&plan);
}

static void test_plan_every_action(void **state)
{
	struct tunnel_entry o[5], n[5];
	const struct tunnel_entry *old[5];
	bool removing[5] = {false, false, false, false, true};
	struct reload_plan plan;

	(void)state;
	o[0] = entry("same", "same.conf", 0);
	o[1] = entry("changed", "changed.conf", 1);
	o[2] = entry("gone", "gone.conf", 2);
	o[3] = entry("broken", "broken.conf", 3);
	o[4] = entry("back", "back.conf", 4); /* retired by the last reload, still stopping */
	for (int i = 0; i < 5; i++)
		old[i] = &o[i];
	n[0] = o[0];
	n[1] = o[1];
	n[1].conf.table = 999;
	n[2] = o[3];
	n[2].valid = false;
	snprintf(n[2].error, sizeof(n[2].error), "broken.conf:2: bad");
	n[3] = o[4];
	n[4] = entry("new", "new.conf", 5);
	assert_int_equal(reload_plan(old, removing, 5, n, 5, &plan), 0);
	assert_int_equal(plan.new_action[0], RELOAD_SAME);
	assert_int_equal(plan.new_action[1], RELOAD_CHANGED);
	assert_int_equal(plan.new_action[2], RELOAD_KEEP_OLD);
	/* Unchanged, but on its way out: it must start again. */
	assert_int_equal(plan.new_action[3], RELOAD_CHANGED);
	assert_int_equal(plan.new_action[4], RELOAD_ADD);
	assert_int_equal(plan.old_of_new[3], 4);
	/* Only "gone" is retired; "back" was already, and is claimed again. */
	assert_int_equal(plan.removed, 1);
	assert_true(plan.remove[2]);
	assert_false(plan.remove[4]);
	assert_int_equal(plan.count[RELOAD_CHANGED], 2);
	reload_plan_free(&plan);
	/* A retired one nobody claims is not retired twice. */
	assert_int_equal(reload_plan(old, removing, 5, n, 1, &plan), 0);
	assert_int_equal(plan.removed, 3);
	assert_false(plan.remove[4]);
	reload_plan_free(&plan);
}

static void test_reconcile_rules(void **state)
{
	struct tunnel_entry t[3] = {entry("sixxs0", "a.conf", 0), entry("sixxs1", "b.conf", 1),
	                            entry("sixxs2", "c.conf", 2)};
	struct netcfg_rule r;

	(void)state;
	t[1].conf.tic = true;
	memset(&t[1].conf.params, 0, sizeof(t[1].conf.params));
	t[2].valid = false;
	routing_rule(&t[0].conf, &r);
	assert_int_equal(reconcile_rule_owner(t, 3, &r), 0);
	r.src = A("2001:db8:1::99"); /* not the file's address: a leftover */
	assert_int_equal(reconcile_rule_owner(t, 3, &r), -1);
	/* A TIC tunnel: its address is unknown yet, table and priority decide. */
	r.table = 201;
	r.priority = 1001;
	assert_int_equal(reconcile_rule_owner(t, 3, &r), 1);
	r.priority = 1000;
	assert_int_equal(reconcile_rule_owner(t, 3, &r), -1);
	/* A tunnel whose file is broken adopts nothing. */
	routing_rule(&t[2].conf, &r);
	assert_int_equal(reconcile_rule_owner(t, 3, &r), -1);
	/* Someone else's rule is never ours to judge. */
	routing_rule(&t[0].conf, &r);
	r.protocol = 0;
	assert_int_equal(reconcile_rule_owner(t, 3, &r), -1);
}

static void test_reconcile_routes_and_links(void **state)
{
	struct tunnel_entry t[2] = {entry("sixxs0", "a.conf", 0), entry("sixxs1", "b.conf", 1)};
	struct netcfg_route r;

	(void)state;
	routing_route(&t[1].conf, 42, &r);
	assert_int_equal(reconcile_route_owner(t, 2, &r), 1);
	r.table = 299; /* a removed tunnel's table */
	assert_int_equal(reconcile_route_owner(t, 2, &r), -1);
	r.table = 200;
	r.dst_len = 48;
	assert_int_equal(reconcile_route_owner(t, 2, &r), -1);
	/* A main-table default route: the default_route tunnel of its metric. */
	t[1].conf.default_route = true;
	t[1].conf.default_route_metric = 2000;
	routing_main_route(&t[1].conf, 42, &r);
	assert_int_equal(reconcile_route_owner(t, 2, &r), 1);
	r.priority = 1024; /* another metric: a leftover */
	assert_int_equal(reconcile_route_owner(t, 2, &r), -1);
	t[1].conf.default_route = false;
	r.priority = 2000;
	assert_int_equal(reconcile_route_owner(t, 2, &r), -1);
	assert_int_equal(reconcile_link_owner(t, 2, "sixxs1"), 1);
	assert_int_equal(reconcile_link_owner(t, 2, "sixxs7"), -1);
	t[1].valid = false;
	assert_int_equal(reconcile_link_owner(t, 2, "sixxs1"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_same),
	    cmocka_unit_test(test_every_field_is_a_change),
	    cmocka_unit_test(test_tic_params_are_runtime),
	    cmocka_unit_test(test_validity),
	    cmocka_unit_test(test_match_add_remove_change),
	    cmocka_unit_test(test_match_duplicates_and_renames),
	    cmocka_unit_test(test_plan_adds_500_to_500),
	    cmocka_unit_test(test_plan_every_action),
	    cmocka_unit_test(test_reconcile_rules),
	    cmocka_unit_test(test_reconcile_routes_and_links),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
