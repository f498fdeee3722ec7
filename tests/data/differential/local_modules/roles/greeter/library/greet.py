#!/usr/bin/python
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.greeting import greeting


def main():
    module = AnsibleModule(argument_spec=dict(name=dict(type='str', required=True)))
    if module.params['name'] == 'nobody':
        module.fail_json(msg='no one to greet')
    module.exit_json(changed=True, greeting=greeting(module.params['name']))


if __name__ == '__main__':
    main()
