/* Reading reply fields and formatting them for people. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ctl.h"

const char *ctl_str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s && *s ? s : "-";
}

bool ctl_has_int(json_t *o, const char *key)
{
	return json_is_integer(json_object_get(o, key));
}

long long ctl_int(json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

void ctl_fmt_age(long long s, char *out, size_t len)
{
	if (s < 0)
		snprintf(out, len, "-");
	else if (s < 60)
		snprintf(out, len, "%llds", s);
	else if (s < 3600)
		snprintf(out, len, "%lldm%02llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(out, len, "%lldh%02lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(out, len, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
}

void ctl_fmt_since(long long stamp, bool ago, char *out, size_t len)
{
	char age[32];
	long long d;

	if (stamp <= 0) {
		snprintf(out, len, "never");
		return;
	}
	d = (long long)time(NULL) - stamp;
	ctl_fmt_age(d < 0 ? 0 : d, age, sizeof(age));
	snprintf(out, len, "%s%s", age, ago ? " ago" : "");
}

void ctl_fmt_bytes(long long n, char *out, size_t len)
{
	static const char units[] = "KMGTP";
	double v = (double)n;
	int u = -1;

	if (n < 1024) {
		snprintf(out, len, "%lld", n);
		return;
	}
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(out, len, v < 10 ? "%.1f%c" : "%.0f%c", v, units[u]);
}

void ctl_fmt_clock(long long stamp, char *out, size_t len)
{
	time_t t = (time_t)stamp;
	struct tm tm;

	if (stamp <= 0) {
		snprintf(out, len, "never");
		return;
	}
	localtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%d %H:%M:%S", &tm);
}

bool ctl_word_ok(const char *s)
{
	if (!*s || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return false;
	return true;
}
