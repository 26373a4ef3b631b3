/*
 * Unit tests for src/communities/perms.c: perm_compute() over a table of
 * cases (the order of docs/permissions.md), and the decimal string form.
 */
#include "unit.h"

#include "communities/perms.h"

#define COM   100 /* the community, and @everyone's id */
#define OWNER 1
#define ME    2
#define OTHER 3
#define R_MOD 10
#define R_VIP 11
#define R_OUT 12 /* a role the member does not have */

#define V  PERM_VIEW_CHANNEL
#define S  PERM_SEND_MESSAGES
#define MM PERM_MANAGE_MESSAGES
#define K  PERM_KICK_MEMBERS
#define B  PERM_BAN_MEMBERS
#define RX PERM_ADD_REACTIONS

typedef struct {
	const char *what;
	int64_t user;
	perm_t everyone;
	perm_role_t roles[3];
	int nroles;
	perm_overwrite_t ow[4];
	int now;
	bool in_channel;
	perm_t want;
} pcase_t;

static const pcase_t cases[] = {
    {"the owner has everything, even with nothing granted", OWNER, 0, {{0}}, 0, {{0}}, 0, false, PERM_ALL},
    {"the owner is not bound by a channel deny",
     OWNER,
     V | S,
     {{0}},
     0,
     {{false, COM, 0, V | S}, {true, OWNER, 0, PERM_ALL}},
     2,
     true,
     PERM_ALL},
    {"ADMINISTRATOR through a role grants everything",
     ME,
     V,
     {{R_MOD, 5, PERM_ADMINISTRATOR}},
     1,
     {{0}},
     0,
     false,
     PERM_ALL},
    {"ADMINISTRATOR ignores channel denies",
     ME,
     PERM_ADMINISTRATOR,
     {{0}},
     0,
     {{false, COM, 0, PERM_ALL}, {true, ME, 0, V}},
     2,
     true,
     PERM_ALL},
    {"@everyone is the base", ME, V | S | RX, {{0}}, 0, {{0}}, 0, false, V | S | RX},
    {"roles OR onto @everyone",
     ME,
     V,
     {{R_MOD, 5, K}, {R_VIP, 2, S | RX}},
     2,
     {{0}},
     0,
     false,
     V | K | S | RX},
    {"no overwrites in a channel: the community bits",
     ME,
     V | S,
     {{R_MOD, 5, K}},
     1,
     {{0}},
     0,
     true,
     V | S | K},
    {"@everyone's overwrite denies and allows", ME, V | S, {{0}}, 0, {{false, COM, RX, S}}, 1, true, V | RX},
    {"role overwrites: the OR of denies, then the OR of allows (allow wins between roles)",
     ME,
     V | S | RX,
     {{R_MOD, 5, 0}, {R_VIP, 2, 0}},
     2,
     {{false, R_MOD, 0, S | RX}, {false, R_VIP, S, 0}},
     2,
     true,
     V | S},
    {"a role allow beats @everyone's deny",
     ME,
     V | S,
     {{R_MOD, 5, 0}},
     1,
     {{false, COM, 0, S}, {false, R_MOD, S, 0}},
     2,
     true,
     V | S},
    {"the member's overwrite wins over the roles'",
     ME,
     V | S,
     {{R_MOD, 5, 0}},
     1,
     {{false, R_MOD, MM, S}, {true, ME, S, MM}},
     2,
     true,
     V | S},
    {"another member's overwrite does not apply", ME, V | S, {{0}}, 0, {{true, OTHER, 0, V}}, 1, true, V | S},
    {"no VIEW_CHANNEL in a channel: nothing at all",
     ME,
     V | S | RX,
     {{R_MOD, 5, K | B}},
     1,
     {{false, COM, 0, V}},
     1,
     true,
     0},
    {"a member allow of VIEW_CHANNEL restores a hidden channel",
     ME,
     V | S,
     {{0}},
     0,
     {{false, COM, 0, V}, {true, ME, V, 0}},
     2,
     true,
     V | S},
    {"a role overwrite for a role the member lacks is ignored",
     ME,
     V | S,
     {{R_VIP, 2, 0}},
     1,
     {{false, R_OUT, PERM_MANAGE_ROLES, S}},
     1,
     true,
     V | S},
    {"overwrites are ignored community-wide", ME, V | S, {{0}}, 0, {{false, COM, 0, V | S}}, 1, false, V | S},
    {"no @everyone VIEW: hidden unless a role allows it",
     ME,
     S,
     {{R_VIP, 2, 0}},
     1,
     {{false, R_VIP, V, 0}},
     1,
     true,
     V | S},
};

static void test_compute_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		const pcase_t *t = &cases[i];
		perm_input_t in = {.community_id = COM,
				   .owner_id = OWNER,
				   .user_id = t->user,
				   .everyone = t->everyone,
				   .roles = t->nroles ? t->roles : NULL,
				   .nroles = t->nroles,
				   .overwrites = t->now ? t->ow : NULL,
				   .noverwrites = t->now,
				   .in_channel = t->in_channel};
		perm_t got = perm_compute(&in);
		if (got != t->want)
			fail_msg("case %zu (%s): got %llu, want %llu", i, t->what, (unsigned long long)got,
				 (unsigned long long)t->want);
	}
}

static void test_compute_is_bounded(void **state)
{
	(void)state;
	/* bits outside PERM_ALL never come out of a channel computation */
	perm_overwrite_t ow = {false, COM, UINT64_C(1) << 40, 0};
	perm_input_t in = {.community_id = COM,
			   .owner_id = OWNER,
			   .user_id = ME,
			   .everyone = V,
			   .overwrites = &ow,
			   .noverwrites = 1,
			   .in_channel = true};
	assert_int_equal(perm_compute(&in), V);
}

static void test_format(void **state)
{
	(void)state;
	char s[21];
	perm_format(0, s);
	assert_string_equal(s, "0");
	perm_format(PERM_ALL, s);
	assert_string_equal(s, "16383");
	perm_format(UINT64_MAX, s);
	assert_string_equal(s, "18446744073709551615");
	perm_format(PERM_EVERYONE_DEFAULT, s);
	perm_t back;
	assert_true(perm_parse(s, &back));
	assert_int_equal(back, PERM_EVERYONE_DEFAULT);
}

static void test_parse(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		bool ok;
		perm_t want;
	} t[] = {
	    {"0", true, 0},
	    {"1", true, 1},
	    {"16383", true, PERM_ALL},
	    {"0016383", true, PERM_ALL},
	    {"2819", true, PERM_EVERYONE_DEFAULT},
	    {"16384", false, 0},		 /* a bit outside PERM_ALL */
	    {"9223372036854775808", false, 0},	 /* bit 63 */
	    {"18446744073709551615", false, 0},	 /* every bit */
	    {"18446744073709551616", false, 0},	 /* overflows 64 bits */
	    {"99999999999999999999", false, 0},	 /* overflows */
	    {"000000000000000000001", false, 0}, /* longer than 20 digits */
	    {"", false, 0},
	    {"-1", false, 0},
	    {"+1", false, 0},
	    {" 1", false, 0},
	    {"1 ", false, 0},
	    {"12abc", false, 0},
	    {"0x10", false, 0},
	    {"1.0", false, 0},
	    {"1e3", false, 0},
	};
	for (size_t i = 0; i < ARRAY_LEN(t); i++) {
		perm_t v = 12345;
		bool ok = perm_parse(t[i].in, &v);
		if (ok != t[i].ok)
			fail_msg("perm_parse(\"%s\") returned %d", t[i].in, ok);
		if (ok && v != t[i].want)
			fail_msg("perm_parse(\"%s\") = %llu", t[i].in, (unsigned long long)v);
		if (!ok && v != 12345)
			fail_msg("perm_parse(\"%s\") wrote its output on failure", t[i].in);
	}
	perm_t v;
	assert_false(perm_parse(NULL, &v));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_compute_table),
	    cmocka_unit_test(test_compute_is_bounded),
	    cmocka_unit_test(test_format),
	    cmocka_unit_test(test_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
