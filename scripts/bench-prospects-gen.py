#!/usr/bin/env python3
"""Labelled person records for the prospects benchmark (issue 15), deterministic for a seed.

Writes PEOPLE (id,first_name,last_name,email,phone,team_id — what a resolver sees) and TRUTH
(id,entity). Realistic noise, each rate a constant below: several records per person (a scraped
team page, a purchased list, a CRM export), typos and transpositions, nicknames, initials,
honorifics and suffixes, case and spacing, "Last, First" written into the first-name cell, phones
in many formats, missing emails, phones and team ids, people who changed teams, family members
in the same team, and namesakes: different people who share a first and last name.

usage: bench-prospects-gen.py --records 1000000 --seed 15 --out people.csv --truth truth.csv
"""
import argparse
import csv
import random

FIRST = """james john robert michael william david richard joseph thomas charles christopher daniel matthew
anthony mark donald steven paul andrew joshua kenneth kevin brian george timothy ronald edward jason jeffrey
ryan jacob gary nicholas eric jonathan stephen larry justin scott brandon benjamin samuel gregory alexander
frank patrick raymond jack dennis jerry tyler aaron jose adam nathan henry douglas zachary peter kyle noah
ethan jeremy walter christian keith roger terry austin sean gerald carl harold dylan arthur lawrence jordan
jesse bryan billy bruce gabriel joe logan alan juan albert willie elijah wayne randy vincent mason roy ralph
bobby russell bradley philip eugene mary patricia jennifer linda elizabeth barbara susan jessica sarah karen
lisa nancy betty sandra margaret ashley kimberly emily donna michelle carol amanda melissa deborah stephanie
dorothy rebecca sharon laura cynthia amy kathleen angela shirley brenda emma anna pamela nicole samantha
katherine christine debra rachel carolyn janet maria olivia heather helen catherine diane julie victoria
joyce lauren kelly christina ruth joan virginia judith evelyn hannah andrea megan cheryl jacqueline martha
madison teresa gloria sara janice ann kathryn abigail sophia frances jean alice judy isabella julia grace
amber denise danielle marilyn beverly charlotte natalie theresa diana brittany doris kayla alexis lori
wei li priya raj ahmed fatima mohammed aisha carlos sofia luis ana miguel lucia hiroshi yuki""".split()

LAST = """smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez gonzalez
wilson anderson thomas taylor moore jackson martin lee perez thompson white harris sanchez clark ramirez
lewis robinson walker young allen king wright scott torres nguyen hill flores green adams nelson baker hall
rivera campbell mitchell carter roberts gomez phillips evans turner diaz parker cruz edwards collins reyes
stewart morris morales murphy cook rogers gutierrez ortiz morgan cooper peterson bailey reed kelly howard
ramos kim cox ward richardson watson brooks chavez wood james bennett gray mendoza ruiz hughes price alvarez
castillo sanders patel myers long ross foster jimenez powell jenkins perry russell sullivan bell coleman
butler henderson barnes gonzales fisher vasquez simmons romero jordan patterson alexander hamilton graham
reynolds griffin wallace moreno west cole hayes bryant herrera gibson ellis tran medina aguilar stevens
murray ford castro marshall owens harrison fernandez mcdonald woods washington kennedy wells vargas henry
chen freeman webb tucker guzman burns crawford olson simpson porter hunter gordon mendez silva shaw snyder
mason dixon munoz hunt hicks holmes palmer wagner black robertson boyd rose stone salazar fox warren mills
meyer rice schmidt garza daniels ferguson nichols stephens soto weaver ryan gardner payne grant dunn kelley
spencer hawkins arnold pierce vazquez hansen peters santos hart bradley knight elliott cunningham duncan
armstrong hudson carroll lane riley andrews alvarado ray delgado berry perkins hoffman johnston matthews
pena richards contreras willis carpenter lawrence sandoval guerrero george chapman rios estrada ortega
watkins greene nunez wheeler valdez harper burke larson santiago maldonado morrison franklin carlson austin
dominguez carr lawson jacobs obrien lynch singh vega bishop montgomery oliver jensen harvey williamson
gilbert dean sims espinoza howell li wong reid hanson le mccoy garrett burton fuller wang weber welch rojas
lucas marquez fields park yang little banks padilla day walsh bowman schultz luna fowler mejia davidson
acosta brewer may holland juarez newman pearson curtis cortez douglas schneider joseph barrett navarro
figueroa keller avila wade molina stanley hopkins campos barnett bates chambers caldwell beck lambert
miranda byrd craig ayala lowe frazier powers neal leonard gregory carrillo sutton fleming rhodes shelton
schwartz norris jennings watts duran walters cohen mcdaniel moran parks steele vaughn becker holt deleon
barker terry hale leon hail benson haynes horton miles lyons pham graves bush thornton wolfe warner cabrera
mckinney mann zimmerman dawson lara fletcher page mccarthy love robles cervantes solis erickson reeves chang
klein salinas fuentes baldwin daniel simon velasquez hardy higgins aguirre lin cummings chandler sharp barber
bowen ochoa dennis robbins liu ramsey francis griffith paul blair oconnor cardenas pacheco cross calderon
quinn moss swanson chan rivas khan rodgers serrano fitzgerald rosales stevenson christensen manning gill
curry mclaughlin harmon mcgee gross doyle garner newton burgess reese walton blake trujillo adkins brady
goodman roman webster goodwin fischer huang potter delacruz montoya todd wu hines mullins castaneda malone
cannon tate mack sherman hubbard hodges zhang guerra wolf valencia saunders franco rowe gallagher farmer
hammond hampton townsend ingram wise gallegos clarke barton schroeder maxwell waters logan camacho strickland
norman person colon parsons frank harrington glover osborne buchanan casey floyd patton ibarra ball tyler
suarez bowers orozco salas cobb gibbs andrade bauer conner moody escobar mcguire lloyd mueller hartman french
kramer mcbride pope lindsey velazquez norton mccormick sparks flynn yates hogan marsh macias villanueva
zamora pratt stokes owen ballard lang brock villarreal charles drake barrera cain patrick pineda burnett
mercado santana shepherd bautista ali shaffer lamb trevino mckenzie hess beil olsen cochran morton nash
wilkins petersen briggs shah roth nicholson holloway lozano flowers rangel hoover arias short mora valenzuela
bryan meyers weiss underwood bass greer summers houston carson morrow clayton whitaker decker yoder collier
zuniga carey wilcox melendez poole roberson larsen conley davenport copeland massey lam huff rocha cameron
jefferson hood monroe anthony pittman huynh randall singleton kirk combs mathis christian skinner bradford
richard galvan wall boone kirby wilkinson bridges bruce atkinson velez meza roy vincent york hodge villa
abbott allison tapia gates chase sosa sweeney farrell wyatt dalton horn barron phelps yu dickerson heath
foley atkins mathews bonilla acevedo benitez zavala hensley glenn cisneros harrell shields rubio choi huber
oneill""".split()

# formal name -> nicknames people write instead
NICK = {
    "william": ["bill", "will", "billy"], "robert": ["bob", "rob", "bobby"], "richard": ["rick", "rich", "dick"],
    "james": ["jim", "jimmy"], "john": ["johnny", "jack"], "michael": ["mike"], "joseph": ["joe", "joey"],
    "thomas": ["tom", "tommy"], "charles": ["charlie", "chuck"], "christopher": ["chris"], "daniel": ["dan", "danny"],
    "matthew": ["matt"], "anthony": ["tony"], "donald": ["don"], "steven": ["steve"], "andrew": ["andy"],
    "joshua": ["josh"], "kenneth": ["ken"], "timothy": ["tim"], "ronald": ["ron"], "edward": ["ed", "eddie", "ted"],
    "jeffrey": ["jeff"], "nicholas": ["nick"], "jonathan": ["jon"], "gregory": ["greg"], "alexander": ["alex"],
    "samuel": ["sam"], "benjamin": ["ben"], "patrick": ["pat"], "raymond": ["ray"], "gerald": ["jerry"],
    "lawrence": ["larry"], "zachary": ["zach"], "douglas": ["doug"], "bradley": ["brad"], "elizabeth": ["liz", "beth", "betty"],
    "jennifer": ["jen", "jenny"], "katherine": ["kate", "kathy", "katie"], "margaret": ["maggie", "meg", "peggy"],
    "patricia": ["pat", "patty"], "deborah": ["deb", "debbie"], "rebecca": ["becky"], "cynthia": ["cindy"],
    "pamela": ["pam"], "susan": ["sue", "susie"], "kimberly": ["kim"], "victoria": ["vicky"], "jessica": ["jess"],
    "sandra": ["sandy"], "abigail": ["abby"], "angela": ["angie"], "barbara": ["barb"], "peter": ["pete"],
    "philip": ["phil"], "catherine": ["cathy"], "samantha": ["sam"], "alexis": ["alex"],
}

FREE_MAIL = ["gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "aol.com"]
AREA = [201, 202, 203, 205, 206, 207, 208, 210, 212, 213, 214, 215, 216, 217, 218, 219, 224, 225, 228, 229, 231,
        234, 239, 240, 248, 251, 252, 253, 254, 256, 260, 262, 267, 269, 270, 281, 301, 302, 303, 304, 305, 307,
        308, 309, 310, 312, 313, 314, 315, 316, 317, 318, 319, 320, 321, 323, 330, 334, 336, 337, 339, 347, 351,
        352, 360, 361, 386, 401, 402, 404, 405, 406, 407, 408, 409, 410, 412, 413, 414, 415, 417, 419, 423, 424,
        425, 432, 434, 435, 440, 443, 469, 478, 479, 480, 484, 501, 502, 503, 504, 505, 507, 508, 509, 510, 512,
        513, 515, 516, 517, 518, 520, 530, 540, 541, 559, 561, 562, 563, 567, 570, 571, 573, 574, 580, 585, 586,
        601, 602, 603, 605, 606, 607, 608, 609, 610, 612, 614, 615, 616, 617, 618, 619, 620, 623, 626, 630, 631,
        636, 641, 646, 650, 651, 660, 661, 662, 678, 682, 701, 702, 703, 704, 706, 707, 708, 712, 713, 714, 715,
        716, 717, 718, 719, 720, 724, 727, 731, 732, 734, 740, 754, 757, 760, 763, 765, 770, 772, 773, 774, 775,
        781, 785, 786, 801, 802, 803, 804, 805, 806, 808, 810, 812, 813, 814, 815, 816, 817, 818, 828, 830, 831,
        832, 843, 845, 847, 848, 850, 856, 857, 858, 859, 860, 862, 863, 864, 865, 870, 901, 903, 904, 906, 907,
        908, 909, 910, 912, 913, 914, 915, 916, 917, 918, 919, 920, 925, 928, 931, 936, 937, 940, 941, 949, 951,
        952, 954, 956, 970, 971, 972, 973, 978, 979, 980, 985, 989]
KEYB = "qwertyuiop asdfghjkl zxcvbnm".split()

# Per-record noise rates.
P_EMAIL, P_PHONE, P_TEAM, P_OTHER_TEAM = 0.72, 0.68, 0.88, 0.04
P_NICK, P_TYPO_FIRST, P_TYPO_LAST, P_INITIAL, P_HONORIFIC, P_SUFFIX, P_LAST_FIRST = 0.22, 0.08, 0.10, 0.03, 0.03, 0.02, 0.02
P_CASE, P_SPACES, P_PRIMARY = 0.3, 0.05, 0.75
# Per-person: how many records (1..5), extra email / phone, namesake, family member in team.
RECORDS_PER_PERSON = [(1, 0.42), (2, 0.30), (3, 0.16), (4, 0.08), (5, 0.04)]
P_SECOND_EMAIL, P_SECOND_PHONE, P_NO_EMAIL, P_NO_PHONE, P_NAMESAKE, P_FAMILY = 0.3, 0.3, 0.08, 0.08, 0.03, 0.08


def zipf_weights(n, s=1.0):
    return [1.0 / (i + 1) ** s for i in range(n)]


def typo(rng, w):
    if len(w) < 3:
        return w
    i = rng.randrange(1, len(w) - 1)
    k = rng.random()
    if k < 0.35:  # transposition
        return w[:i] + w[i + 1] + w[i] + w[i + 2:]
    if k < 0.6:  # deletion
        return w[:i] + w[i + 1:]
    if k < 0.85:  # keyboard neighbour
        c = w[i]
        for row in KEYB:
            j = row.find(c)
            if j >= 0:
                nb = [row[x] for x in (j - 1, j + 1) if 0 <= x < len(row)]
                return w[:i] + rng.choice(nb) + w[i + 1:]
        return w
    return w[:i] + w[i] + w[i:]  # doubled letter


def case(rng, w):
    k = rng.random()
    if k < 0.5:
        return w.upper()
    return w.lower()


def fmt_phone(rng, digits):
    a, e, l = digits[:3], digits[3:6], digits[6:]
    return rng.choice([
        f"({a}) {e}-{l}", f"{a}-{e}-{l}", f"{a}.{e}.{l}", f"+1 {a} {e} {l}", f"{a}{e}{l}", f"1-{a}-{e}-{l}",
        f"+1 ({a}) {e}-{l}", f"{a} {e} {l}",
    ])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--out", required=True)
    ap.add_argument("--truth", required=True)
    args = ap.parse_args()
    rng = random.Random(args.seed)

    # Flatter than Zipf: the most common first name ~3 % of people, family name ~1.7 %
    # (US census: James ~1.6 %, Smith ~0.8 %; a harsher namesake rate than real lists).
    fw, lw = zipf_weights(len(FIRST), 0.5), zipf_weights(len(LAST), 0.5)
    ks, kw = zip(*RECORDS_PER_PERSON)
    mean = sum(k * w for k, w in RECORDS_PER_PERSON)
    n_people = int(args.records / mean * 1.05) + 10  # stop at exactly --records
    n_teams = max(1, n_people // 9)
    team_w = zipf_weights(n_teams, 0.5)
    firsts = rng.choices(FIRST, fw, k=n_people)
    lasts = rng.choices(LAST, lw, k=n_people)
    teams = rng.choices(range(n_teams), team_w, k=n_people)
    team_ids = [f"T{rng.randrange(16**8):08x}" for _ in range(n_teams)]
    team_domain = [f"{LAST[rng.randrange(len(LAST))]}{rng.choice(['realty', 'homes', 'group', 'properties', 're'])}{t % 997}.com" for t in range(n_teams)]
    last_in_team = {}
    used_emails, used_phones = set(), set()

    def new_phone():
        while True:
            d = f"{rng.choice(AREA)}{rng.randrange(2, 10)}{rng.randrange(100):02d}{rng.randrange(10000):04d}"
            if d[3:6] != "555" and d[4:6] != "11" and d not in used_phones:
                used_phones.add(d)
                return d

    def new_email(first, last, team):
        for attempt in range(50):
            dom = team_domain[team] if rng.random() < 0.4 else rng.choice(FREE_MAIL)
            local = rng.choice([f"{first}.{last}", f"{first[0]}{last}", f"{first}{last}", f"{first}", f"{last}.{first}", f"{first}_{last}"])
            if attempt or rng.random() < 0.3:
                local += str(rng.randrange(1, 1000))
            e = f"{local}@{dom}"
            if e not in used_emails:
                used_emails.add(e)
                return e
        raise RuntimeError("no email")

    out = open(args.out, "w", newline="")
    truth = open(args.truth, "w", newline="")
    w, t = csv.writer(out), csv.writer(truth)
    w.writerow(["id", "first_name", "last_name", "email", "phone", "team_id"])
    t.writerow(["id", "entity"])
    rows = []
    for p in range(n_people):
        first, last, team = firsts[p], lasts[p], teams[p]
        if rng.random() < P_FAMILY and team in last_in_team:
            last = last_in_team[team]  # a relative working in the same team
        elif rng.random() < P_NAMESAKE and p > 0:
            q = rng.randrange(p)  # a different person with the same name elsewhere
            first, last = firsts[q], lasts[q]
        firsts[p], lasts[p] = first, last
        last_in_team[team] = last
        emails = [] if rng.random() < P_NO_EMAIL else [new_email(first, last, team)]
        if emails and rng.random() < P_SECOND_EMAIL:
            emails.append(new_email(first, last, team))
        phones = [] if rng.random() < P_NO_PHONE else [new_phone()]
        if phones and rng.random() < P_SECOND_PHONE:
            phones.append(new_phone())
        k = rng.choices(ks, kw)[0]
        for _ in range(k):
            f, l = first, last
            if f in NICK and rng.random() < P_NICK:
                f = rng.choice(NICK[f])
            if rng.random() < P_TYPO_FIRST:
                f = typo(rng, f)
            if rng.random() < P_TYPO_LAST:
                l = typo(rng, l)
            if rng.random() < P_INITIAL:
                f = f[0] + "."
            if rng.random() < P_CASE:
                f, l = case(rng, f), case(rng, l)
            else:
                f, l = f.capitalize(), l.capitalize()
            if rng.random() < P_HONORIFIC:
                f = rng.choice(["Dr.", "Mr.", "Ms.", "Mrs."]) + " " + f
            if rng.random() < P_SUFFIX:
                l = l + rng.choice([" Jr.", " III", ", PhD", " Sr."])
            if rng.random() < P_LAST_FIRST:
                f, l = f"{l}, {f}", ""
            if rng.random() < P_SPACES:
                f = "  " + f + " "
            email = ""
            if emails and rng.random() < P_EMAIL:
                email = emails[0] if len(emails) == 1 or rng.random() < P_PRIMARY else emails[1]
                if rng.random() < 0.1:
                    email = email.upper()
            phone = ""
            if phones and rng.random() < P_PHONE:
                phone = fmt_phone(rng, phones[0] if len(phones) == 1 or rng.random() < P_PRIMARY else phones[1])
            tm = ""
            r = rng.random()
            if r < P_TEAM:
                tm = team_ids[team]
            elif r < P_TEAM + P_OTHER_TEAM:
                tm = team_ids[rng.randrange(n_teams)]
            rows.append((f, l, email, phone, tm, p))
            if len(rows) >= args.records:
                break
        if len(rows) >= args.records:
            break
    # Records of one person are not next to each other in a real list.
    rng.shuffle(rows)
    for i, (f, l, email, phone, tm, p) in enumerate(rows):
        rid = f"r{i + 1}"
        w.writerow([rid, f, l, email, phone, tm])
        t.writerow([rid, p])
    out.close()
    truth.close()


if __name__ == "__main__":
    main()
