import sys


def stockman_bundle(spec, stdin):
    # The deflated bundle: sent after the header (then kept in the host's
    # cache for the next tasks), or, when not sent, read from that cache.
    # The cache is a directory private to the user under the remote tmp;
    # each file is named by its SHA-256, written atomically (a temporary
    # file renamed) and checked against its name whenever it is read.
    import hashlib
    import os
    import stat
    import tempfile

    digest = spec['sha256']
    if len(digest) != 64 or any(c not in '0123456789abcdef' for c in digest):
        raise SystemExit('stockman: bad bundle name')
    cache = os.path.join(os.path.expanduser(os.path.expandvars(spec['dir'])), 'stockman-bundles')

    def private():
        try:
            info = os.lstat(cache)
        except OSError:
            return False
        return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o077

    path = os.path.join(cache, digest)
    if not spec['sent']:
        data = None
        if private():
            try:
                with open(path, 'rb') as f:
                    data = f.read()
            except OSError:
                pass
        if data is None or hashlib.sha256(data).hexdigest() != digest:
            sys.stderr.write('stockman-bundle-missing\n')
            sys.exit(3)
        return data
    data = stdin.read()
    if hashlib.sha256(data).hexdigest() != digest:
        raise SystemExit('stockman: the module bundle arrived damaged')
    try:
        old = os.umask(0o077)
        try:
            os.makedirs(cache, exist_ok=True)
        finally:
            os.umask(old)
        if private():
            fd, temporary = tempfile.mkstemp(dir=cache, prefix='.tmp-')
            try:
                with os.fdopen(fd, 'wb') as f:
                    f.write(data)
                os.replace(temporary, path)
            except BaseException:
                os.unlink(temporary)
                raise
            sys.stderr.write('stockman-bundle-stored\n')
    except OSError:
        pass
    return data


def stockman_run():
    # stockman's module runner: reads a header line (module name, arguments)
    # and a deflated bundle of Python sources from stdin, serves `ansible.*`
    # and `ansible_collections.*` from that bundle in memory (nothing is
    # written on the host), and runs the module as __main__.
    import importlib.abc
    import importlib.util
    import json
    import runpy
    import zlib

    stdin = sys.stdin.buffer
    header = json.loads(stdin.readline())
    files = json.loads(zlib.decompress(stockman_bundle(header['bundle'], stdin)).decode('utf-8'))
    prefixes = set()
    for path in files:
        parts = path.split('/')
        for i in range(1, len(parts)):
            prefixes.add('/'.join(parts[:i]))

    class Bundle(importlib.abc.MetaPathFinder, importlib.abc.InspectLoader):
        def locate(self, name):
            base = name.replace('.', '/')
            if base + '/__init__.py' in files:
                return base + '/__init__.py', True
            if base + '.py' in files:
                return base + '.py', False
            if base in prefixes:
                # A directory without __init__.py: an empty package, with a
                # __file__ all the same (module_utils locate themselves by it).
                return base + '/__init__.py', True
            return None

        def find_spec(self, name, path=None, target=None):
            if name.split('.')[0] not in ('ansible', 'ansible_collections'):
                return None
            found = self.locate(name)
            if found is None:
                return None
            filename, package = found
            spec = importlib.util.spec_from_loader(name, self, origin='<stockman>/' + filename, is_package=package)
            spec.has_location = True
            return spec

        def is_package(self, name):
            return (self.locate(name) or (None, False))[1]

        def get_source(self, name):
            found = self.locate(name)
            return files.get(found[0], '') if found else None

        def get_code(self, name):
            return compile(self.get_source(name), '<stockman>/' + self.locate(name)[0], 'exec', dont_inherit=True)

    sys.path[:] = [p for p in sys.path if p not in ('', '.')]
    sys.meta_path.insert(0, Bundle())
    from ansible.module_utils import basic
    basic._ANSIBLE_ARGS = json.dumps({'ANSIBLE_MODULE_ARGS': header['args']}).encode('utf-8')
    basic._ANSIBLE_PROFILE = 'legacy'
    try:
        runpy.run_module(header['module'], run_name='__main__', alter_sys=True)
    except Exception as e:
        import traceback
        print(json.dumps({'failed': True, 'msg': 'Module failed: %s: %s' % (type(e).__name__, e), 'exception': traceback.format_exc()}))
        sys.exit(1)
    print(json.dumps({'failed': True, 'msg': 'New-style module did not handle its own exit.'}))
    sys.exit(1)


stockman_run()
