def greeting(name):
    return 'hello, %s' % name
