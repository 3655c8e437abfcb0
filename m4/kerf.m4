# SPDX-License-Identifier: Apache-2.0
# kerf.m4 -- per-plugin switches and the configure summary.

# KERF_SUMMARY_LINE(LABEL, VALUE): one aligned line of the summary.
AC_DEFUN([KERF_SUMMARY_LINE], [printf '  %-22s %s\n' "$1:" "$2"])

# KERF_PLUGIN(NAME, DEFAULT, HELP)
# DEFAULT is "yes" when the plugin's dependencies were found; any other value
# (for example "no" or "yesno") means something it needs is missing.
# Gives --enable-NAME=yes|no|force and AM_CONDITIONAL BUILD_PLUGIN_<NAME>.
AC_DEFUN([KERF_PLUGIN], [
	m4_pushdef([kp_var], m4_translit([$1], [-], [_]))
	m4_pushdef([kp_upper], m4_toupper(m4_translit([$1], [-], [_])))
	AC_ARG_ENABLE([$1],
		[AS_HELP_STRING([--enable-$1], [$3 (yes|no|force)])],
		[enable_plugin_]kp_var[=$enableval], [enable_plugin_]kp_var[=auto])
	kp_deps_ok=no
	AS_IF([test "x$2" = xyes], [kp_deps_ok=yes])
	AS_CASE([$enable_plugin_]kp_var,
		[no], [build_plugin_]kp_var[=no; why_plugin_]kp_var[="disabled by --disable-$1"],
		[force], [build_plugin_]kp_var[=yes; why_plugin_]kp_var[=forced],
		[yes], [AS_IF([test "x$kp_deps_ok" = xyes],
			[build_plugin_]kp_var[=yes],
			[AC_MSG_ERROR([plugin $1 was requested but its dependencies are missing])])],
		[AS_IF([test "x$kp_deps_ok" = xyes],
			[build_plugin_]kp_var[=yes],
			[build_plugin_]kp_var[=no; why_plugin_]kp_var[="dependencies missing"])])
	AM_CONDITIONAL([BUILD_PLUGIN_]kp_upper, [test "x$build_plugin_]kp_var[" = xyes])
	AS_IF([test "x$build_plugin_]kp_var[" = xyes],
		[AC_DEFINE([BUILD_PLUGIN_]kp_upper, [1], [$3])])
	kerf_plugin_list="$kerf_plugin_list kp_var:$1"
	m4_popdef([kp_upper])
	m4_popdef([kp_var])
])

# Prints every plugin with yes/no and, for "no", why.
AC_DEFUN([KERF_PLUGIN_SUMMARY], [
	for kp_entry in $kerf_plugin_list; do
		kp_v=${kp_entry%%:*}
		kp_n=${kp_entry#*:}
		eval kp_b=\$build_plugin_$kp_v
		eval kp_w=\$why_plugin_$kp_v
		dnl A plugin whose directory builds nothing yet is reported as such.
		kp_has_src=yes
		grep -q 'pkglib_LTLIBRARIES' "$srcdir/plugins/$kp_n/Makefile.am" 2>/dev/null || kp_has_src=no
		AS_IF([test "x$kp_b" = xyes && test "x$kp_has_src" = xno],
			[printf '    %-20s yes (no sources yet)\n' "$kp_n"],
		[test "x$kp_b" = xyes],
			[printf '    %-20s yes\n' "$kp_n"],
			[printf '    %-20s no (%s; enable with --enable-%s)\n' "$kp_n" "$kp_w" "$kp_n"])
	done
])

# KERF_CHECK_GLPK: --with-glpk[=PATH]. "no" disables it, an explicit "yes" or
# PATH makes a missing GLPK fatal, the default only notes its absence.
AC_DEFUN([KERF_CHECK_GLPK], [
	AC_ARG_WITH([glpk],
		[AS_HELP_STRING([--with-glpk[=PATH]], [GLPK for the binpack-ilp plugin (default: if found)])],
		[], [with_glpk=check])
	have_glpk=no
	GLPK_CFLAGS=""
	GLPK_LIBS=""
	AS_IF([test "x$with_glpk" != xno], [
		AS_IF([test "x$with_glpk" != xyes && test "x$with_glpk" != xcheck], [
			GLPK_CFLAGS="-I$with_glpk/include"
			GLPK_LIBS="-L$with_glpk/lib"
		])
		save_CPPFLAGS=$CPPFLAGS
		save_LIBS=$LIBS
		CPPFLAGS="$CPPFLAGS $GLPK_CFLAGS"
		LIBS="$GLPK_LIBS $LIBS"
		AC_CHECK_HEADER([glpk.h],
			[AC_CHECK_LIB([glpk], [glp_intopt], [have_glpk=yes; GLPK_LIBS="$GLPK_LIBS -lglpk"])])
		CPPFLAGS=$save_CPPFLAGS
		LIBS=$save_LIBS
		AS_IF([test "x$have_glpk" = xno && test "x$with_glpk" != xcheck],
			[AC_MSG_ERROR([GLPK was requested but glpk.h or libglpk was not found (Debian: libglpk-dev)])])
	])
	AC_SUBST([GLPK_CFLAGS])
	AC_SUBST([GLPK_LIBS])
])
