#!/usr/bin/python
# A local module named like a built-in one: Ansible runs this one for `ping`.
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.shout import shout


def main():
    module = AnsibleModule(argument_spec=dict(data=dict(type='str', default='pong')), supports_check_mode=True)
    module.exit_json(changed=False, ping=shout(module.params['data']), shadowed=True)


if __name__ == '__main__':
    main()
